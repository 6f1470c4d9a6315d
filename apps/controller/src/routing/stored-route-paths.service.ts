import { Inject, Injectable } from '@nestjs/common';
import { canonicalRoutePath, routePathProblem } from '@paas/contracts';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { prismaErrorCode } from '../platform/common/query-params';
import { RouteProjectionRepository } from './route-projection.repository';

/**
 * Route paths stored before the API required the normal form (issue 12): the router matches
 * requests on the normal form, so a stored "/%61pi" would never be reached. At boot, before the
 * routes are projected, each such path is rewritten to its normal form ("/api"), unless that route
 * exists already or the path is ambiguous ("/a%2Fb", which no request can reach): those stay as
 * they are and are logged as errors naming the route to delete. Idempotent; two controllers doing
 * it at once write the same thing.
 */
@Injectable()
export class StoredRoutePathsService {
  constructor(
    private readonly repo: RouteProjectionRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async normalize(): Promise<void> {
    const suspects = await this.repo.routesWithPath();
    for (const route of suspects) {
      if (routePathProblem(route.path) === undefined) continue;
      const where = { route_id: route.id, host: route.host, domain: route.domain.name, path: route.path };
      const canonical = canonicalRoutePath(route.path);
      if (canonical === undefined) {
        this.logger.error({ event: 'route-path-ambiguous', ...where }, 'a stored route path is ambiguous: no request reaches it; delete the route (DELETE /v1/routes/ID)');
        continue;
      }
      try {
        await this.repo.setPath(route.id, canonical);
        this.logger.warn({ event: 'route-path-normalized', ...where, to: canonical }, 'a stored route path was rewritten to its normal form');
      } catch (error) {
        if (prismaErrorCode(error) !== 'P2002') throw error;
        this.logger.error(
          { event: 'route-path-duplicate', ...where, normal_form: canonical },
          'a stored route path duplicates another route in normal form: no request reaches it; delete one of the two',
        );
      }
    }
  }
}
