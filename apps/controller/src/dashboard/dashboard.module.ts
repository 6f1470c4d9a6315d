import { resolve } from 'node:path';
import { Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { DASHBOARD_OPTIONS, DashboardMiddleware, type DashboardOptions } from './dashboard.middleware';

/** Where `npm run build` puts the dashboard, from this file's place in apps/controller/dist/dashboard. */
export const DEFAULT_DASHBOARD_DIR = resolve(__dirname, '..', '..', '..', 'dashboard', 'dist');

/** The web dashboard (apps/dashboard), served at `/` next to the API. */
@Module({})
export class DashboardModule implements NestModule {
  /** Options from the controller's config: PAAS_DASHBOARD_DIR, PAAS_DASHBOARD_ORIGINS. */
  static fromConfig(): DynamicModule {
    return {
      module: DashboardModule,
      providers: [
        {
          provide: DASHBOARD_OPTIONS,
          inject: [CONTROLLER_CONFIG],
          useFactory: (config: ControllerConfig): DashboardOptions => ({
            dir: config.dashboardDir ?? DEFAULT_DASHBOARD_DIR,
            corsOrigins: config.dashboardOrigins,
          }),
        },
        DashboardMiddleware,
      ],
    };
  }

  static withOptions(options: DashboardOptions): DynamicModule {
    return { module: DashboardModule, providers: [{ provide: DASHBOARD_OPTIONS, useValue: options }, DashboardMiddleware] };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(DashboardMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
