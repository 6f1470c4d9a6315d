import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { PlacementModule } from '../placement/placement.module';
import { ReleasesModule } from '../releases/releases.module';
import { LifecycleController } from './lifecycle.controller';
import { LifecycleService } from './lifecycle.service';

/**
 * The changes to an app that roll out: env, process scale, start/stop/restart, rollback; each
 * records a release and/or starts a deployment. Also reads processes and instances.
 */
@Module({
  imports: [AuthModule, AuditModule, AppsModule, ReleasesModule, DeploymentsModule, PlacementModule],
  controllers: [LifecycleController],
  providers: [LifecycleService],
})
export class LifecycleModule {}
