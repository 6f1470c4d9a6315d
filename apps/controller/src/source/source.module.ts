import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { PlacementModule } from '../placement/placement.module';
import { ReleasesModule } from '../releases/releases.module';
import { RoutingModule } from '../routing/routing.module';
import { SecurityGroupsModule } from '../security-groups/security-groups.module';
import { ServicesModule } from '../services/services.module';
import { StorageModule } from '../storage/storage.module';
import { BuildLogsRepository } from './builds/build-logs.repository';
import { BuildSweeperService } from './builds/build-sweeper.service';
import { BuildsInternalController } from './builds/builds-internal.controller';
import { BuildsController } from './builds/builds.controller';
import { BuildsRepository } from './builds/builds.repository';
import { SourceUploadController } from './builds/source-upload.controller';
import { StagingService } from './builds/staging.service';
import { RecordRelease } from './builds/usecases/record-release.usecase';
import { StageBuild } from './builds/usecases/stage-build.usecase';
import { GitController } from './git/git.controller';
import { ManifestReader } from './manifest/manifest-reader';
import { ManifestRepository } from './manifest/manifest.repository';
import { ManifestService } from './manifest/manifest.service';

/**
 * From source to a release: git push (git/, the smart HTTP protocol), source uploads, staging on a
 * cell and the build log (builds/), the manifest.yml applied with the push (manifest/); a staged
 * build becomes a release (ReleasesModule) rolled out by a deployment (DeploymentsModule).
 */
@Module({
  imports: [AuthModule, AuditModule, AppsModule, StorageModule, ReleasesModule, DeploymentsModule, PlacementModule, RoutingModule, SecurityGroupsModule, ServicesModule],
  controllers: [GitController, BuildsInternalController, BuildsController, SourceUploadController],
  providers: [ManifestReader, ManifestRepository, ManifestService, BuildsRepository, BuildLogsRepository, StageBuild, RecordRelease, StagingService, BuildSweeperService],
})
export class SourceModule {}
