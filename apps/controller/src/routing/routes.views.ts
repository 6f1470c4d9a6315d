import type { App, Domain, Route, RouteDestination } from '../generated/prisma/client';
import { fqdnOf } from './route-projection.service';

export type DestinationWithApp = RouteDestination & { app: Pick<App, 'id' | 'name'> };
export type RouteWithAll = Route & { domain: Domain; destinations: DestinationWithApp[] };

export interface DestinationView {
  id: string;
  app: { id: string; name: string };
  process_type: string;
  port: number;
  /** Relative share of traffic; null: like 1. */
  weight: number | null;
  created_at: string;
}

export interface RouteView {
  id: string;
  host: string;
  path: string;
  /** host.domain + path, as clients reach it through the router. */
  url: string;
  domain: { id: string; name: string };
  space_id: string;
  destinations: DestinationView[];
  created_at: string;
}

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
    created_at: route.createdAt.toISOString(),
  };
}
