import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { CONTROLLER_CONFIG, loadControllerConfig, type ControllerConfig } from './platform/config/controller-config';
import { LOGGER, type Logger } from './platform/config/config.module';
import { checkDatabaseAccess } from './platform/database/database-access';
import { checkRedisAccess } from '@paas/redis';

async function bootstrap(): Promise<void> {
  let settings: ControllerConfig;
  try {
    settings = loadControllerConfig();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  // A wrong password in DATABASE_URL or REDIS_URL fails the boot here, with the fix named.
  try {
    await checkDatabaseAccess(settings.databaseUrl);
    await checkRedisAccess(settings.redisUrl, 'controller');
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'], bodyParser: true });
  app.enableShutdownHooks();
  const config = app.get<ControllerConfig>(CONTROLLER_CONFIG);
  const logger = app.get<Logger>(LOGGER);
  await app.listen(config.port, config.host);
  logger.info({ url: config.url }, 'controller-listening');
}

void bootstrap();
