import { Module } from '@nestjs/common';
import { ConfigModule } from '../config/config.module';
import { RedisModule } from '../redis/redis.module';
import { AppLogsService } from './app-logs.service';

/** The writing side of the app logs (events, staging, release phase write lines); made global by PlatformModule. */
@Module({ imports: [ConfigModule, RedisModule], providers: [AppLogsService], exports: [AppLogsService] })
export class AppLogsModule {}
