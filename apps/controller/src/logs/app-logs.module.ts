import { Global, Module } from '@nestjs/common';
import { AppLogsService } from './app-logs.service';

/** Global: the services that write app log lines (events, staging, release phase) are spread over many modules. */
@Global()
@Module({ providers: [AppLogsService], exports: [AppLogsService] })
export class AppLogsModule {}
