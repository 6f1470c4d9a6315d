import { Global, Module } from '@nestjs/common';
import { HostOwnershipService } from './host-ownership.service';
import { RouteHostsRepository } from './route-hosts.repository';
import { RouteProjectionService } from './route-projection.service';
import { RoutesRepository } from './routes.repository';
import { StoredRoutePathsService } from './stored-route-paths.service';

/** The route model, host ownership and the projection into Redis, used by apps, manifests and the routes API. */
@Global()
@Module({
  providers: [RoutesRepository, RouteHostsRepository, HostOwnershipService, StoredRoutePathsService, RouteProjectionService],
  exports: [RoutesRepository, RouteHostsRepository, HostOwnershipService, RouteProjectionService],
})
export class RoutesCoreModule {}
