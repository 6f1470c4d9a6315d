import type { DestinationView, RouteView } from '@paas/contracts';
import type { App, Domain, Route, RouteDestination } from '../generated/prisma/client';
import { fqdnOf } from './route-projection.service';

export type DestinationWithApp = RouteDestination & { app: Pick<App, 'id' | 'name'> };
export type RouteWithAll = Route & { domain: Domain; destinations: DestinationWithApp[] };

export type { DestinationView, RouteView };

export function routeUrl(route: Route & { domain: Domain }): string {
  return fqdnOf(route.host, route.domain.name) + route.path;
}

export function destinationView(d: DestinationWithApp): DestinationView {
  return {
    id: d.id,
    app: { id: d.app.id, name: d.app.name },
    process_type: d.processType,
    port: d.port,
    weight: d.weight,
    created_at: d.createdAt.toISOString(),
  };
}

export function routeView(route: RouteWithAll): RouteView {
  return {
    id: route.id,
    host: route.host,
    path: route.path,
    url: routeUrl(route),
    domain: { id: route.domain.id, name: route.domain.name },
    space_id: route.spaceId,
    destinations: route.destinations.map(destinationView),
    https_redirect: route.httpsRedirect,
    hsts_max_age: route.hstsMaxAge,
    created_at: route.createdAt.toISOString(),
  };
}
