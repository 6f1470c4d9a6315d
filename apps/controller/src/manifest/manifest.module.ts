import { Module } from '@nestjs/common';
import { BlobstoreModule } from '../blobstore/blobstore.module';
import { ManifestReader } from './manifest-reader';
import { ManifestRepository } from './manifest.repository';
import { ManifestService } from './manifest.service';

/** Cloud Foundry manifest.yml on push: read from the pushed package, checked before staging, applied with the release. */
@Module({
  imports: [BlobstoreModule],
  providers: [ManifestReader, ManifestRepository, ManifestService],
  exports: [ManifestService],
})
export class ManifestModule {}
