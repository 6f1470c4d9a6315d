import { Injectable } from '@nestjs/common';
import type { UpdateRouteRequest } from '@paas/contracts';
import type { Actor } from '../auth/actor';
import { AccessService, type SpaceAction } from '../auth/access.service';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { PageRequest } from '../platform/common/pagination';
import { isUuid, narrowVisible } from '../platform/common/query-params';
import { DomainsService } from './domains.service';
import { EventsService } from '../audit/events.service';
import { fqdnOf } from './route-projection.service';
import { HostOwnershipService } from './host-ownership.service';
import { HostSyncService } from './host-sync.service';
import { RoutesApiRepository, type RouteFilter } from './routes-api.repository';
import { RoutesRepository } from './routes.repository';
import type { CreateRouteRequest } from './routes.schemas';
import { routeUrl, routeView, type RouteView, type RouteWithAll } from './routes.views';

/**
 * Routes: host + domain + optional path prefix (in the normal form the router matches on), unique
 * together, owned by a space; every route of a host is in one space (HostOwnershipService). Every
 * change is projected into Redis at once (RouteProjectionService.syncHost), where the routers read it.
 */
@Injectable()
export class RoutesService {
  constructor(
    private readonly repo: RoutesApiRepository,
    private readonly core: RoutesRepository,
    private readonly domains: DomainsService,
    private readonly access: AccessService,
    private readonly events: EventsService,
    private readonly hosts: HostSyncService,
    private readonly ownership: HostOwnershipService,
  ) {}

  async list(actor: Actor, filter: RouteFilter, page: PageRequest): Promise<{ routes: RouteView[]; total: number }> {
    const spaceIds = narrowVisible(await this.access.visibleSpaceIds(actor), filter.spaceIds);
    const { routes, total } = await this.repo.list({ ...filter, spaceIds }, page.skip, page.take);
    return { routes: routes.map(routeView), total };
  }

  /** The route if the actor may do `action` in its space: 404 when it may not see it, 403 when it may not change it. */
  async resolve(actor: Actor, id: string, action: SpaceAction): Promise<RouteWithAll> {
    const route = isUuid(id) ? await this.repo.find(id) : null;
    if (!route) throw notFound('route', id, 'list the routes you can see with GET /v1/routes');
    await this.access.require(actor, route.spaceId, action, 'route', id);
    return route;
  }

  async get(actor: Actor, id: string): Promise<RouteView> {
    return routeView(await this.resolve(actor, id, 'read'));
  }

  async create(actor: Actor, input: CreateRouteRequest): Promise<RouteView> {
    const space = await this.repo.findSpace(input.space_id);
    if (!space) throw notFound('space', input.space_id, 'list the spaces you can see with GET /v1/spaces');
    await this.access.require(actor, space.id, 'write', 'space', input.space_id);
    const domain = await this.domains.find(actor, input.domain_id);
    if (domain.orgId && domain.orgId !== space.orgId) {
      throw new DomainException(
        ErrorCode.Unprocessable,
        `domain ${domain.name} is private to another org: a route in space ${space.name} may use the shared domains and the domains of its own org (GET /v1/domains)`,
      );
    }
    if (!domain.verifiedAt) {
      throw new DomainException(
        ErrorCode.DomainNotVerified,
        `domain ${domain.name} is not verified yet: verify the domain first (POST /v1/domains/${domain.id}/verify), once http://${domain.name}/.well-known/paas-domain-verification/ reaches the platform's routers or its TXT record is set (GET /v1/domains/${domain.id} says how)`,
        { domain_id: domain.id, verify_url: `/v1/domains/${domain.id}/verify` },
      );
    }
    if (input.host === '' && !domain.orgId) {
      throw new DomainException(
        ErrorCode.Unprocessable,
        `host may be empty only on a private domain; ${domain.name} is shared: give a host, e.g. {"host": "myapp"}`,
        [{ field: 'host', rule: 'required on a shared domain' }],
      );
    }
    const fqdn = fqdnOf(input.host, domain.name);
    const url = fqdn + input.path;
    const result = await this.core.createRoute(space.id, domain.id, input.host, input.path);
    if (result.kind === 'host-taken') throw await this.ownership.takenError(actor, fqdn, result.ownerSpaceId);
    if (result.kind === 'exists') {
      const existing = result.route;
      const owner = await this.access.roleIn(actor, existing.spaceId);
      const message = !owner
        ? `the route ${url} is taken: choose another host or path`
        : existing.spaceId === space.id
          ? `the route ${url} already exists in this space (id ${existing.id}): use it`
          : `the route ${url} is taken by space ${(await this.repo.findSpace(existing.spaceId))?.name ?? existing.spaceId} (route ${existing.id}): choose another host or path`;
      throw new DomainException(ErrorCode.RouteTaken, message, owner ? { route_id: existing.id, space_id: existing.spaceId } : undefined);
    }
    const created = result.route;
    await this.hosts.sync(fqdnOf(created.host, domain.name));
    await this.events.record(actor, 'route-created', { type: 'route', id: created.id, name: url, spaceId: space.id }, { domain_id: domain.id });
    return routeView((await this.repo.find(created.id))!);
  }

  /** Changes the route's HTTPS settings (https_redirect, hsts_max_age); the routers apply them at once. */
  async update(actor: Actor, id: string, input: UpdateRouteRequest): Promise<RouteView> {
    const route = await this.resolve(actor, id, 'write');
    const changes: Record<string, unknown> = {};
    if (input.https_redirect !== undefined && input.https_redirect !== route.httpsRedirect) changes.https_redirect = input.https_redirect;
    if (input.hsts_max_age !== undefined && input.hsts_max_age !== route.hstsMaxAge) changes.hsts_max_age = input.hsts_max_age;
    if (Object.keys(changes).length === 0) return routeView(route);
    const updated = await this.repo.updateSettings(route.id, { httpsRedirect: input.https_redirect, hstsMaxAge: input.hsts_max_age });
    if (!updated) throw notFound('route', id, 'it was deleted meanwhile; list the routes with GET /v1/routes');
    await this.hosts.sync(fqdnOf(route.host, route.domain.name));
    await this.events.record(actor, 'route-updated', { type: 'route', id: route.id, name: routeUrl(route), spaceId: route.spaceId }, changes);
    return routeView((await this.repo.find(route.id)) ?? route);
  }

  /** Deletes the route with its destinations; the routers stop serving it at once. */
  async delete(actor: Actor, id: string): Promise<void> {
    const route = await this.resolve(actor, id, 'write');
    const url = routeUrl(route);
    await this.repo.delete(route.id);
    await this.hosts.sync(fqdnOf(route.host, route.domain.name));
    for (const d of route.destinations) {
      await this.events.record(actor, 'route-unmapped', { type: 'app', id: d.app.id, name: d.app.name, spaceId: route.spaceId }, {
        route_id: route.id,
        url,
        destination_id: d.id,
        reason: 'route deleted',
      });
    }
    await this.events.record(actor, 'route-deleted', { type: 'route', id: route.id, name: url, spaceId: route.spaceId }, {
      destinations: route.destinations.length,
    });
  }
}
