import { Module } from '@nestjs/common';
import { BlobstoreController } from './blobstore.controller';
import { BlobstoreService } from './blobstore.service';

@Module({ controllers: [BlobstoreController], providers: [BlobstoreService], exports: [BlobstoreService] })
export class BlobstoreModule {}
