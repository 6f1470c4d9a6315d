import { Module } from '@nestjs/common';
import pino from 'pino';
import { CONTROLLER_CONFIG, loadControllerConfig, type ControllerConfig } from './controller-config';

export const LOGGER = Symbol('LOGGER');
export type Logger = pino.Logger;

@Module({
  providers: [
    { provide: CONTROLLER_CONFIG, useFactory: () => loadControllerConfig() },
    {
      provide: LOGGER,
      inject: [CONTROLLER_CONFIG],
      useFactory: (config: ControllerConfig) => pino({ name: 'controller', level: config.logLevel }),
    },
  ],
  exports: [CONTROLLER_CONFIG, LOGGER],
})
export class ConfigModule {}
