import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { PlacementModule } from '../placement/placement.module';
import { RoutingModule } from '../routing/routing.module';
import { SecurityGroupsModule } from '../security-groups/security-groups.module';
import { StorageModule } from '../storage/storage.module';
import { BuildsRepository } from '../builds/builds.repository';
import { DeploymentsRepository } from '../deployments/deployments.repository';
import { DeploymentsService } from '../deployments/deployments.service';
import { ReleasePhaseService } from '../deployments/release-phase.service';
import { ReleasePruningService } from '../releases/release-pruning.service';
import { ReleasesRepository } from '../releases/releases.repository';
import { LifecycleController } from './lifecycle.controller';
import { LifecycleService } from './lifecycle.service';

/** Releases, deployments and the changes that roll them out (env, scale, start/stop/restart, rollback). */
@Module({
  imports: [AuthModule, AuditModule, AppsModule, StorageModule, PlacementModule, RoutingModule, SecurityGroupsModule],
  controllers: [LifecycleController],
  providers: [
    ReleasesRepository,
    DeploymentsRepository,
    DeploymentsService,
    ReleasePhaseService,
    ReleasePruningService,
    BuildsRepository,
    LifecycleService,
  ],
  exports: [ReleasesRepository, DeploymentsRepository, DeploymentsService, BuildsRepository],
})
export class LifecycleModule {}
