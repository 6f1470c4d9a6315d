import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { ReleasesModule } from '../releases/releases.module';
import { ServicesModule } from '../services/services.module';
import { BindingLoginsService } from './binding-logins.service';
import { BoundInstanceService } from './bound-instance.service';
import { ServiceBindingsController } from './service-bindings.controller';
import { BindService } from './usecases/bind-service.usecase';
import { UnbindService } from './usecases/unbind-service.usecase';

/**
 * Binding apps to service instances (docs/services.md): each binding gets a login of its own on
 * the instance's server, and binding or unbinding rolls out a release (above deployments/, as
 * lifecycle/ is). Drops an app's bindings' logins when the app is deleted.
 */
@Module({
  imports: [AuthModule, AuditModule, AppsModule, ReleasesModule, DeploymentsModule, ServicesModule],
  controllers: [ServiceBindingsController],
  providers: [BoundInstanceService, BindingLoginsService, BindService, UnbindService],
})
export class ServiceBindingsModule {}
