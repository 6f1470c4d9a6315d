import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { ControllerMetricsService } from './controller-metrics.service';

/**
 * `GET /metrics` in the Prometheus text format, on the API port, outside /v1 (not part of the
 * API document). Open unless CONTROLLER_METRICS_TOKEN is set: it carries counts and route
 * templates only.
 */
@Controller()
export class MetricsController {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly metrics: ControllerMetricsService,
  ) {}

  @Get('metrics')
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    const expected = this.config.metricsToken;
    if (expected !== undefined && !sameSecret(/^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1], expected)) {
      throw new DomainException(
        ErrorCode.Unauthenticated,
        'GET /metrics needs "Authorization: Bearer <CONTROLLER_METRICS_TOKEN>" (Prometheus: authorization.credentials in the scrape config)',
      );
    }
    const body = await this.metrics.registry.metrics();
    res.status(200).setHeader('content-type', this.metrics.registry.contentType).setHeader('cache-control', 'no-store').send(body);
  }
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
