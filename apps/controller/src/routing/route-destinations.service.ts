import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import { isUuid } from '../platform/common/query-params';
import { EventsService } from '../audit/events.service';
import { fqdnOf } from './route-projection.service';
import { HostSyncService } from './host-sync.service';
import { RoutesApiRepository, type DestinationKey } from './routes-api.repository';
import { APP_PORT, type DestinationRequest } from './routes.schemas';
import { RoutesService } from './routes.service';
import { destinationView, routeUrl, type DestinationView, type DestinationWithApp, type RouteWithAll } from './routes.views';

export interface DestinationsView {
  route_id: string;
  destinations: DestinationView[];
}

interface ValidDestination extends DestinationKey {
  appName: string;
  weight: number | null;
}

const keyOf = (d: DestinationKey) => `${d.appId}/${d.processType}/${d.port}`;

/**
 * Route destinations, the route-binding API: which app process (and port, with which weight)
 * serves a route. Every write locks the route row, so concurrent inserts all land and concurrent
 * replace-alls apply one after the other (the last one wins whole, never a mix); then the host is
 * re-projected into Redis for the routers.
 */
@Injectable()
export class RouteDestinationsService {
  constructor(
    private readonly repo: RoutesApiRepository,
    private readonly routes: RoutesService,
    private readonly access: AccessService,
    private readonly events: EventsService,
    private readonly hosts: HostSyncService,
  ) {}

  async list(actor: Actor, routeId: string): Promise<DestinationsView> {
    const route = await this.routes.resolve(actor, routeId, 'read');
    return { route_id: route.id, destinations: route.destinations.map(destinationView) };
  }

  /** Adds destinations; one already bound (same app, process type and port) takes the new weight. */
  async insert(actor: Actor, routeId: string, input: DestinationRequest[]): Promise<DestinationsView> {
    const route = await this.routes.resolve(actor, routeId, 'write');
    const wanted = await this.validate(actor, route, input);
    return this.change(actor, route, async (current, tx) => {
      await this.apply(actor, route, current, wanted, tx);
    });
  }

  /** Makes `input` the route's only destinations (an empty list unbinds every app). */
  async replace(actor: Actor, routeId: string, input: DestinationRequest[]): Promise<DestinationsView> {
    const route = await this.routes.resolve(actor, routeId, 'write');
    const wanted = await this.validate(actor, route, input);
    return this.change(actor, route, async (current, tx) => {
      const keep = new Set(wanted.map(keyOf));
      const gone = current.filter((d) => !keep.has(keyOf(d)));
      await this.repo.deleteDestinations(route.id, gone.map((d) => d.id), tx);
      for (const d of gone) await this.recordUnmapped(actor, route, d, tx);
      await this.apply(actor, route, current.filter((d) => keep.has(keyOf(d))), wanted, tx);
    });
  }

  async remove(actor: Actor, routeId: string, destinationId: string): Promise<void> {
    const route = await this.routes.resolve(actor, routeId, 'write');
    await this.change(actor, route, async (current, tx) => {
      const destination = isUuid(destinationId) ? current.find((d) => d.id === destinationId) : undefined;
      if (!destination) throw notFound('destination', destinationId, `on route ${routeUrl(route)}: list them with GET /v1/routes/${route.id}/destinations`);
      await this.repo.deleteDestinations(route.id, [destination.id], tx);
      await this.recordUnmapped(actor, route, destination, tx);
    });
  }

  /** Runs `fn` under the route's row lock with its current destinations, then re-projects the host. */
  private async change(
    actor: Actor,
    route: RouteWithAll,
    fn: (current: DestinationWithApp[], tx: Prisma.TransactionClient) => Promise<void>,
  ): Promise<DestinationsView> {
    const after = await this.repo.withLockedRoute(route.id, async (tx) => {
      await fn(await this.repo.destinationsOf(route.id, tx), tx);
      return this.repo.destinationsOf(route.id, tx);
    });
    if (!after) throw notFound('route', route.id, 'it was deleted meanwhile');
    await this.hosts.sync(fqdnOf(route.host, route.domain.name));
    return { route_id: route.id, destinations: after.map(destinationView) };
  }

  /** Upserts `wanted`, recording route-mapped for new bindings and route-destination-updated for new weights. */
  private async apply(actor: Actor, route: RouteWithAll, current: DestinationWithApp[], wanted: ValidDestination[], tx: Prisma.TransactionClient): Promise<void> {
    const byKey = new Map(current.map((d) => [keyOf(d), d]));
    for (const w of wanted) {
      const before = byKey.get(keyOf(w));
      if (before && before.weight === w.weight) continue;
      const row = await this.repo.upsertDestination(route.id, { appId: w.appId, processType: w.processType, port: w.port }, w.weight, tx);
      await this.events.record(
        actor,
        before ? 'route-destination-updated' : 'route-mapped',
        { type: 'app', id: w.appId, name: w.appName, spaceId: route.spaceId },
        { route_id: route.id, url: routeUrl(route), destination_id: row.id, process_type: w.processType, port: w.port, weight: w.weight },
        tx,
      );
    }
  }

  private recordUnmapped(actor: Actor, route: RouteWithAll, d: DestinationWithApp, tx: Prisma.TransactionClient): Promise<void> {
    return this.events.record(
      actor,
      'route-unmapped',
      { type: 'app', id: d.app.id, name: d.app.name, spaceId: route.spaceId },
      { route_id: route.id, url: routeUrl(route), destination_id: d.id, process_type: d.processType, port: d.port },
      tx,
    );
  }

  /** Checks every destination before anything changes: visible app, of the route's space, with that process type, on $PORT. */
  private async validate(actor: Actor, route: RouteWithAll, input: DestinationRequest[]): Promise<ValidDestination[]> {
    const apps = new Map((await this.repo.findApps([...new Set(input.map((d) => d.app.id))])).map((a) => [a.id, a]));
    const seen = new Set<string>();
    const out: ValidDestination[] = [];
    for (const [i, d] of input.entries()) {
      const app = apps.get(d.app.id);
      if (!app || !(await this.access.roleIn(actor, app.spaceId))) {
        throw notFound('app', d.app.id, `(destinations.${i}.app.id): list your apps with GET /v1/apps`);
      }
      if (app.spaceId !== route.spaceId) {
        throw new DomainException(
          ErrorCode.Unprocessable,
          `app ${app.name} is in another space than route ${routeUrl(route)}: bind apps of the route's space, or create a route in the app's space`,
          [{ field: `destinations.${i}.app.id`, rule: "the app must be in the route's space" }],
        );
      }
      if (d.port !== APP_PORT) {
        throw new DomainException(
          ErrorCode.Unprocessable,
          `port ${d.port} is not exposed: app instances listen on $PORT, which is ${APP_PORT}; leave port out or give ${APP_PORT}`,
          [{ field: `destinations.${i}.port`, rule: `must be ${APP_PORT}` }],
        );
      }
      const types = app.processes.map((p) => p.type).sort();
      if (!types.includes(d.process_type)) {
        throw new DomainException(
          ErrorCode.Unprocessable,
          `app ${app.name} has no process type ${d.process_type} (it has: ${types.join(', ') || 'none'}): bind one of those, or push a Procfile that defines ${d.process_type}`,
          [{ field: `destinations.${i}.process_type`, rule: `one of ${types.join(', ')}` }],
        );
      }
      const valid = { appId: app.id, appName: app.name, processType: d.process_type, port: d.port, weight: d.weight ?? null };
      if (seen.has(keyOf(valid))) {
        throw new DomainException(
          ErrorCode.Unprocessable,
          `destination ${i} repeats app ${app.name} process ${d.process_type} port ${d.port}: list each destination once`,
          [{ field: `destinations.${i}`, rule: 'each (app, process_type, port) once' }],
        );
      }
      seen.add(keyOf(valid));
      out.push(valid);
    }
    return out;
  }
}
