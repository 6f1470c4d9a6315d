import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { CONTROLLER_CONFIG, loadControllerConfig, type ControllerConfig } from './config/controller-config';
import { LOGGER, type Logger } from './config/config.module';

async function bootstrap(): Promise<void> {
  try {
    loadControllerConfig();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'], bodyParser: true });
  app.enableShutdownHooks();
  const config = app.get<ControllerConfig>(CONTROLLER_CONFIG);
  const logger = app.get<Logger>(LOGGER);
  await app.listen(config.port, config.host);
  logger.info({ url: config.url }, 'controller-listening');
}

void bootstrap();
