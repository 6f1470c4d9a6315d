import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { RoutingModule } from '../routing/routing.module';
import { StorageModule } from '../storage/storage.module';
import { ManifestReader } from './manifest-reader';
import { ManifestRepository } from './manifest.repository';
import { ManifestService } from './manifest.service';

/** Cloud Foundry manifest.yml on push: read from the pushed package, checked before staging, applied with the release. */
@Module({
  imports: [AuthModule, AuditModule, AppsModule, StorageModule, RoutingModule],
  providers: [ManifestReader, ManifestRepository, ManifestService],
  exports: [ManifestService],
})
export class ManifestModule {}
