import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuthModule } from '../auth/auth.module';
import { StorageModule } from '../storage/storage.module';
import { ReleasePruningService } from './release-pruning.service';
import { ReleasesController } from './releases.controller';
import { ReleasesRepository } from './releases.repository';

/** Releases: what an app runs (a droplet, env, process types), their API, and the pruning of old droplets. */
@Module({
  imports: [AuthModule, AppsModule, StorageModule],
  controllers: [ReleasesController],
  providers: [ReleasesRepository, ReleasePruningService],
  exports: [ReleasesRepository, ReleasePruningService],
})
export class ReleasesModule {}
