import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { ConvergenceModule } from '../convergence/convergence.module';
import { ControllerMetricsService } from './controller-metrics.service';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsRepository } from './metrics.repository';

/** Prometheus metrics of the controller: GET /metrics and the timing of every HTTP request. */
@Module({
  imports: [ConvergenceModule],
  controllers: [MetricsController],
  providers: [MetricsRepository, ControllerMetricsService, HttpMetricsMiddleware],
})
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
