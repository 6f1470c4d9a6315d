import { Global, Module } from '@nestjs/common';
import { AppLogsService } from './app-logs/app-logs.service';
import { configProviders, LOGGER } from './config/config.module';
import { CONTROLLER_CONFIG } from './config/controller-config';
import { PrismaService } from './database/prisma.service';
import { RedisService } from './redis/redis.module';

/**
 * What every module of the controller stands on: the config and logger, Prisma, Redis and the
 * app-log writer. The only global module: everything above it imports the modules it uses. Being
 * global, its providers start before every other module's and are destroyed after them (Nest runs
 * the hooks of global modules first on init and last on shutdown), so no timer of a feature
 * module meets a closed Redis or Postgres.
 */
@Global()
@Module({
  providers: [...configProviders, PrismaService, RedisService, AppLogsService],
  exports: [CONTROLLER_CONFIG, LOGGER, PrismaService, RedisService, AppLogsService],
})
export class PlatformModule {}
