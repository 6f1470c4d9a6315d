import type { Provider } from '@nestjs/common';
import { eventLogHooks } from '@paas/contracts';
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
    // Every line's message is its kebab-case event (docs/operations.md, "Process logs").
    useFactory: (config: ControllerConfig) => pino({ name: 'controller', level: config.logLevel, hooks: eventLogHooks }),
  },
];
