import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { ManifestModule } from '../manifest/manifest.module';
import { PlacementModule } from '../placement/placement.module';
import { RoutingModule } from '../routing/routing.module';
import { SecurityGroupsModule } from '../security-groups/security-groups.module';
import { StorageModule } from '../storage/storage.module';
import { BuildLogsRepository } from './build-logs.repository';
import { BuildsInternalController } from './builds-internal.controller';
import { BuildsController } from './builds.controller';
import { BuildSweeperService } from './build-sweeper.service';
import { SourceUploadController } from './source-upload.controller';
import { StagingService } from './staging.service';

@Module({
  imports: [AuthModule, AuditModule, AppsModule, StorageModule, LifecycleModule, ManifestModule, PlacementModule, RoutingModule, SecurityGroupsModule],
  controllers: [BuildsInternalController, BuildsController, SourceUploadController],
  providers: [StagingService, BuildLogsRepository, BuildSweeperService],
})
export class BuildsModule {}
