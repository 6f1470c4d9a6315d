import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { PlacementModule } from '../placement/placement.module';
import { ReleasesModule } from '../releases/releases.module';
import { AppActionsController } from './app-actions.controller';
import { EnvController } from './env.controller';
import { InstancesController } from './instances.controller';
import { LifecycleService } from './lifecycle.service';
import { ProcessReconciler } from './process-reconciler';
import { ProcessesController } from './processes.controller';
import { RestartApp } from './usecases/restart-app.usecase';
import { RollbackApp } from './usecases/rollback-app.usecase';
import { ScaleProcess } from './usecases/scale-process.usecase';
import { StartApp } from './usecases/start-app.usecase';
import { StopApp } from './usecases/stop-app.usecase';
import { UpdateEnv } from './usecases/update-env.usecase';
import { UpdateProcess } from './usecases/update-process.usecase';

/**
 * The changes to an app that roll out: env, process scale and update, start/stop/restart,
 * rollback (one use case each, usecases/); each records a release and/or starts a deployment.
 * Also reads the env, processes and instances.
 */
@Module({
  imports: [AuthModule, AuditModule, AppsModule, ReleasesModule, DeploymentsModule, PlacementModule],
  controllers: [EnvController, ProcessesController, InstancesController, AppActionsController],
  providers: [LifecycleService, ProcessReconciler, UpdateEnv, ScaleProcess, UpdateProcess, StartApp, StopApp, RestartApp, RollbackApp],
})
export class LifecycleModule {}
