import { Injectable } from '@nestjs/common';
import type { Domain, Route, RouteDestination } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import { retryOnConflict } from '../platform/common/retry-on-conflict';
import { RouteHostsRepository } from './route-hosts.repository';

export type RouteWithDomain = Route & { domain: Domain; destinations: RouteDestination[] };

/**
 * What creating a route did: `created` it, found it `exists` already (possibly, for a route kept
 * from before host ownership, in another space: check `route.spaceId`), or refused it because
 * another space owns the host (`host-taken`).
 */
export type RouteCreation =
  | { kind: 'created'; route: RouteWithDomain }
  | { kind: 'exists'; route: RouteWithDomain }
  | { kind: 'host-taken'; ownerSpaceId: string };

@Injectable()
export class RoutesRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly hosts: RouteHostsRepository,
  ) {}

  /** Makes sure a shared domain exists (the platform's default apps domain). */
  ensureSharedDomain(name: string): Promise<Domain> {
    return retryOnConflict(
      async () => (await this.prisma.domain.findFirst({ where: { name, orgId: null } })) ?? (await this.prisma.domain.create({ data: { name, verifiedAt: new Date() } })),
    );
  }

  findRoute(domainId: string, host: string, path: string): Promise<RouteWithDomain | null> {
    return this.prisma.route.findUnique({
      where: { host_domainId_path: { host, domainId, path } },
      include: { domain: true, destinations: true },
    });
  }

  /**
   * Creates the route in `spaceId` unless it exists, after claiming its host for that space (see
   * RouteHostsRepository): `host-taken` when another space owns the host, whatever the path.
   * Race-free: of two spaces creating a free host's first route at once, one gets `host-taken`.
   */
  async createRoute(spaceId: string, domainId: string, host: string, path: string): Promise<RouteCreation> {
    return this.prisma.$transaction(async (tx) => {
      const owner = await this.hosts.claim(tx, { domainId, host }, spaceId);
      if (owner !== spaceId) return { kind: 'host-taken', ownerSpaceId: owner };
      const { count } = await tx.route.createMany({ data: [{ spaceId, domainId, host, path }], skipDuplicates: true });
      const route = await tx.route.findUniqueOrThrow({
        where: { host_domainId_path: { host, domainId, path } },
        include: { domain: true, destinations: true },
      });
      return { kind: count === 1 ? 'created' : 'exists', route };
    });
  }

  /** Adds a destination unless the same (app, process, port) is already bound to the route. */
  async addDestination(routeId: string, appId: string, processType: string, port: number, weight?: number): Promise<RouteDestination> {
    return this.prisma.routeDestination.upsert({
      where: { routeId_appId_processType_port: { routeId, appId, processType, port } },
      create: { routeId, appId, processType, port, weight: weight ?? null },
      update: { weight: weight ?? null },
    });
  }

  /** Deletes the routes; hosts left without a route are free again. */
  deleteRoutes(ids: string[]): Promise<void> {
    return this.hosts.deleteRoutes(ids);
  }

  /** Routes an app is bound to (for VCAP_APPLICATION.uris and for re-projection). */
  routesOfApp(appId: string): Promise<RouteWithDomain[]> {
    return this.prisma.route.findMany({
      where: { destinations: { some: { appId } } },
      include: { domain: true, destinations: true },
      orderBy: { createdAt: 'asc' },
    });
  }
}
