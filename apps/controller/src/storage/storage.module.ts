import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { BlobstoreController } from './blobstore.controller';
import { BlobstoreService } from './blobstore.service';
import { GitRepositoriesService } from './git-repositories.service';

/** What the controller keeps on disk: the blob store (packages, droplets) and each app's bare git repository. */
@Module({
  imports: [AuthModule],
  controllers: [BlobstoreController],
  providers: [BlobstoreService, GitRepositoriesService],
  exports: [BlobstoreService, GitRepositoriesService],
})
export class StorageModule {}
