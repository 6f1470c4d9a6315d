import { Module } from '@nestjs/common';
import { BlobstoreModule } from '../blobstore/blobstore.module';
import { GitRepositoriesModule } from '../git/git-repositories.module';
import { AppsController } from './apps.controller';
import { AppsRepository } from './apps.repository';
import { AppsService } from './apps.service';

@Module({
  imports: [GitRepositoriesModule, BlobstoreModule],
  controllers: [AppsController],
  providers: [AppsRepository, AppsService],
  exports: [AppsRepository, AppsService],
})
export class AppsModule {}
