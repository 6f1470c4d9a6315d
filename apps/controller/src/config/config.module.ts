import { Global, Module } from '@nestjs/common';
import pino from 'pino';
import { eventLogHooks } from '@paas/contracts';
import { CONTROLLER_CONFIG, loadControllerConfig, type ControllerConfig } from './controller-config';

export const LOGGER = Symbol('LOGGER');
export type Logger = pino.Logger;

@Global()
@Module({
  providers: [
    { provide: CONTROLLER_CONFIG, useFactory: () => loadControllerConfig() },
    {
      provide: LOGGER,
      inject: [CONTROLLER_CONFIG],
      // Every line's message is its kebab-case event (docs/logs.md).
      useFactory: (config: ControllerConfig) => pino({ name: 'controller', level: config.logLevel, hooks: eventLogHooks }),
    },
  ],
  exports: [CONTROLLER_CONFIG, LOGGER],
})
export class ConfigModule {}
