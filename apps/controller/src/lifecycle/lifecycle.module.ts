import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { BlobstoreModule } from '../blobstore/blobstore.module';
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
  imports: [AppsModule, BlobstoreModule],
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
