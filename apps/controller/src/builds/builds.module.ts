import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { BlobstoreModule } from '../blobstore/blobstore.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { BuildsInternalController } from './builds-internal.controller';
import { StagingService } from './staging.service';

@Module({
  imports: [AppsModule, BlobstoreModule, LifecycleModule],
  controllers: [BuildsInternalController],
  providers: [StagingService],
})
export class BuildsModule {}
