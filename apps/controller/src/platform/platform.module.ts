import { Global, Module } from '@nestjs/common';
import { AppLogsModule } from './app-logs/app-logs.module';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { RedisModule } from './redis/redis.module';

/**
 * What every module of the controller stands on: the config and logger, Prisma, Redis and the
 * app-log writer. The only global module: everything above it imports the modules it uses.
 */
@Global()
@Module({
  imports: [ConfigModule, DatabaseModule, RedisModule, AppLogsModule],
  exports: [ConfigModule, DatabaseModule, RedisModule, AppLogsModule],
})
export class PlatformModule {}
