import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ControllerMetricsService } from './controller-metrics.service';

/** The route label of a request no route matched (404s, probes): one series, whatever the path. */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * Times every request and counts it under its route template (`/v1/apps/:app`, never the path
 * itself: one series per endpoint, no app names), once its response has finished or the client
 * went away. Runs before the guards, so 401s are counted too.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: ControllerMetricsService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    // Nest mounts this middleware as a catch-all route: while no handler matched, req.route is that one.
    const ownRoute: unknown = req.route;
    let done = false;
    const record = () => {
      if (done) return;
      done = true;
      const route = req.route === ownRoute ? undefined : (req.route as { path?: unknown } | undefined)?.path;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.requestDone(req.method, typeof route === 'string' ? route : UNMATCHED_ROUTE, res.statusCode, seconds);
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  }
}
