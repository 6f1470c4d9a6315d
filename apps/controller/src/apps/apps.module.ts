import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { PlacementModule } from '../placement/placement.module';
import { RoutingModule } from '../routing/routing.module';
import { StorageModule } from '../storage/storage.module';
import { AppDeletionHooks } from './app-deletion-hooks';
import { AppsController } from './apps.controller';
import { AppsRepository } from './apps.repository';
import { AppsService } from './apps.service';
import { CreateApp } from './usecases/create-app.usecase';
import { DeleteApp } from './usecases/delete-app.usecase';

@Module({
  imports: [AuthModule, AuditModule, StorageModule, RoutingModule, PlacementModule],
  controllers: [AppsController],
  providers: [AppsRepository, AppsService, AppDeletionHooks, CreateApp, DeleteApp],
  exports: [AppsRepository, AppsService, AppDeletionHooks],
})
export class AppsModule {}
