import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { PlacementModule } from '../placement/placement.module';
import { StorageModule } from '../storage/storage.module';
import { BoundServicesService } from './bound-services.service';
import { ServiceAdminService } from './service-admin.service';
import { ServiceBinderService } from './service-binder.service';
import { ServiceBindingsRepository } from './service-bindings.repository';
import { ServiceCellsService } from './service-cells.service';
import { ServiceInstancesRepository } from './service-instances.repository';
import { ServiceInstancesService } from './service-instances.service';
import { ServiceProvisioningService } from './service-provisioning.service';
import { ServiceBackupsController } from './service-backups.controller';
import { ServiceBackupsPass } from './service-backups-pass.service';
import { ServiceBackupsRepository } from './service-backups.repository';
import { ServiceBackupsService } from './service-backups.service';
import { ServiceRestoresService } from './service-restores.service';
import { ServicesController } from './services.controller';
import { CreateServiceInstance } from './usecases/create-service-instance.usecase';
import { DeleteServiceInstance } from './usecases/delete-service-instance.usecase';

/**
 * Backing services (docs/services.md): the marketplace, service instances (placed on a cell,
 * provisioned by a pass the convergence leader runs) and the bindings' records and logins. Binding
 * an app (which rolls out a release) is service-bindings/, above deployments; deployments read the
 * app's bound services from here (BoundServicesService).
 */
@Module({
  imports: [AuthModule, AuditModule, PlacementModule, AppsModule, StorageModule],
  controllers: [ServicesController, ServiceBackupsController],
  providers: [
    ServiceInstancesRepository,
    ServiceBindingsRepository,
    ServiceAdminService,
    ServiceBinderService,
    ServiceCellsService,
    ServiceInstancesService,
    ServiceProvisioningService,
    BoundServicesService,
    CreateServiceInstance,
    DeleteServiceInstance,
    ServiceBackupsRepository,
    ServiceBackupsService,
    ServiceRestoresService,
    ServiceBackupsPass,
  ],
  exports: [ServiceBackupsPass, ServiceInstancesRepository, ServiceBindingsRepository, ServiceAdminService, ServiceBinderService, ServiceCellsService, ServiceInstancesService, ServiceProvisioningService, BoundServicesService],
})
export class ServicesModule {}
