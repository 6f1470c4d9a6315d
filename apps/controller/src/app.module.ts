import { Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { PlatformModule } from './platform/platform.module';
import { AuthModule } from './auth/auth.module';
import { AuditModule } from './audit/audit.module';
import { SecurityGroupsModule } from './security-groups/security-groups.module';
import { PlacementModule } from './placement/placement.module';
import { RoutingModule } from './routing/routing.module';
import { StorageModule } from './storage/storage.module';
import { IdentityModule } from './identity/identity.module';
import { AppsModule } from './apps/apps.module';
import { ReleasesModule } from './releases/releases.module';
import { DeploymentsModule } from './deployments/deployments.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { ServicesModule } from './services/services.module';
import { ServiceBindingsModule } from './service-bindings/service-bindings.module';
import { SourceModule } from './source/source.module';
import { ConvergenceModule } from './convergence/convergence.module';
import { CertificatesModule } from './certificates/certificates.module';
import { CellsModule } from './cells/cells.module';
import { OpenApiModule } from './openapi/openapi.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { LogsModule } from './logs/logs.module';
import { MetricsModule } from './metrics/metrics.module';
import { HealthController } from './health.controller';
import { HttpExceptionFilter } from './platform/common/http-exception.filter';
import { RequestTextInterceptor } from './platform/common/request-text.interceptor';

@Module({
  // Bottom-up, as they depend on each other (docs/architecture.md); the dashboard's and the
  // metrics' catch-all middleware come last, in this order.
  imports: [
    PlatformModule,
    AuthModule,
    AuditModule,
    SecurityGroupsModule,
    PlacementModule,
    RoutingModule,
    StorageModule,
    IdentityModule,
    AppsModule,
    ServicesModule,
    ReleasesModule,
    DeploymentsModule,
    LifecycleModule,
    ServiceBindingsModule,
    SourceModule,
    ConvergenceModule,
    CertificatesModule,
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
