import { Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { PlatformModule } from './platform/platform.module';
import { AuthModule } from './auth/auth.module';
import { AppsModule } from './apps/apps.module';
import { GitModule } from './git/git.module';
import { StorageModule } from './storage/storage.module';
import { BuildsModule } from './builds/builds.module';
import { ConvergenceModule } from './convergence/convergence.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { RoutingModule } from './routing/routing.module';
import { PlacementModule } from './placement/placement.module';
import { IdentityModule } from './identity/identity.module';
import { SecurityGroupsModule } from './security-groups/security-groups.module';
import { AuditModule } from './audit/audit.module';
import { CellsModule } from './cells/cells.module';
import { OpenApiModule } from './openapi/openapi.module';
import { MetricsModule } from './metrics/metrics.module';
import { LogsModule } from './logs/logs.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { HealthController } from './health.controller';
import { HttpExceptionFilter } from './platform/common/http-exception.filter';
import { RequestTextInterceptor } from './platform/common/request-text.interceptor';

@Module({
  imports: [
    PlatformModule,
    AuthModule,
    AuditModule,
    SecurityGroupsModule,
    PlacementModule,
    RoutingModule,
    StorageModule,
    AppsModule,
    LifecycleModule,
    GitModule,
    BuildsModule,
    ConvergenceModule,
    IdentityModule,
    CellsModule,
    OpenApiModule,
    DashboardModule.fromConfig(),
    LogsModule,
    MetricsModule,
  ],
  controllers: [HealthController],
  providers: [
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
    { provide: APP_INTERCEPTOR, useClass: RequestTextInterceptor },
  ],
})
export class AppModule {}
