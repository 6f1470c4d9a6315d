import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { RedisModule } from './redis/redis.module';
import { AuthModule } from './auth/auth.module';
import { AppsModule } from './apps/apps.module';
import { GitModule } from './git/git.module';
import { BlobstoreModule } from './blobstore/blobstore.module';
import { BuildsModule } from './builds/builds.module';
import { EventsModule } from './events/events.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { RoutesCoreModule } from './routes/routes-core.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { HealthController } from './health.controller';
import { HttpExceptionFilter } from './common/http-exception.filter';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    RedisModule,
    AuthModule,
    EventsModule,
    SchedulerModule,
    RoutesCoreModule,
    AppsModule,
    LifecycleModule,
    GitModule,
    BlobstoreModule,
    BuildsModule,
  ],
  controllers: [HealthController],
  providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
})
export class AppModule {}
