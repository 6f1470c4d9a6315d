import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { BlobstoreModule } from '../blobstore/blobstore.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { BuildsInternalController } from './builds-internal.controller';
import { BuildsRepository } from './builds.repository';
import { StagingService } from './staging.service';

@Module({
  imports: [AppsModule, BlobstoreModule, SchedulerModule],
  controllers: [BuildsInternalController],
  providers: [BuildsRepository, StagingService],
})
export class BuildsModule {}
