import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuthModule } from '../auth/auth.module';
import { LogsController } from './logs.controller';
import { LogsService } from './logs.service';

/** The logs API (GET /v1/apps/:app/logs and .../logs/stream); the writing side is AppLogsService (platform/app-logs). */
@Module({ imports: [AuthModule, AppsModule], controllers: [LogsController], providers: [LogsService] })
export class LogsModule {}
