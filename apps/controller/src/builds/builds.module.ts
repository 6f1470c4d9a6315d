import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { BlobstoreModule } from '../blobstore/blobstore.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { ManifestModule } from '../manifest/manifest.module';
import { BuildLogsRepository } from './build-logs.repository';
import { BuildsInternalController } from './builds-internal.controller';
import { BuildsController } from './builds.controller';
import { BuildSweeperService } from './build-sweeper.service';
import { SourceUploadController } from './source-upload.controller';
import { StagingService } from './staging.service';

@Module({
  imports: [AppsModule, BlobstoreModule, LifecycleModule, ManifestModule],
  controllers: [BuildsInternalController, BuildsController, SourceUploadController],
  providers: [StagingService, BuildLogsRepository, BuildSweeperService],
})
export class BuildsModule {}
