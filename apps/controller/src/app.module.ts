import { Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { PlatformModule } from './platform/platform.module';
import { AuthModule } from './auth/auth.module';
import { AppsModule } from './apps/apps.module';
import { GitModule } from './git/git.module';
import { BlobstoreModule } from './blobstore/blobstore.module';
import { BuildsModule } from './builds/builds.module';
import { ConvergenceModule } from './convergence/convergence.module';
import { EventsModule } from './events/events.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { RoutesCoreModule } from './routes/routes-core.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { OrgsModule } from './orgs/orgs.module';
import { UsersModule } from './users/users.module';
import { DomainsModule } from './domains/domains.module';
import { SecurityGroupsModule } from './security-groups/security-groups.module';
import { RoutesApiModule } from './routes/routes-api.module';
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
    EventsModule,
    SchedulerModule,
    RoutesCoreModule,
    AppsModule,
    LifecycleModule,
    GitModule,
    BlobstoreModule,
    BuildsModule,
    ConvergenceModule,
    OrgsModule,
    UsersModule,
    DomainsModule,
    SecurityGroupsModule,
    RoutesApiModule,
    AuditModule,
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
