import type { Provider } from '@nestjs/common';
import pino from 'pino';
import { CONTROLLER_CONFIG, loadControllerConfig, type ControllerConfig } from './controller-config';

export const LOGGER = Symbol('LOGGER');
export type Logger = pino.Logger;

/** The config, parsed and checked once at boot, and the logger made from it; provided by PlatformModule. */
export const configProviders: Provider[] = [
  { provide: CONTROLLER_CONFIG, useFactory: () => loadControllerConfig() },
  {
    provide: LOGGER,
    inject: [CONTROLLER_CONFIG],
    useFactory: (config: ControllerConfig) => pino({ name: 'controller', level: config.logLevel }),
  },
];
