import { Injectable } from '@nestjs/common';
import type { Domain, Route, RouteDestination } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';

/** A (host, domain name) pair, as RouteProjectionService looks a fully qualified host up. */
export interface HostCandidate {
  host: string;
  domain: { name: string };
}

/** A route with its domain and its destinations, oldest first: what a host's projection is made of. */
export type ProjectedRoute = Route & { domain: Domain; destinations: RouteDestination[] };

/** What the route projection and the boot-time path normalization read from and write to Postgres. */
@Injectable()
export class RouteProjectionRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** How many apps are started with a release (they should have instances and routes served). */
  runningAppCount(): Promise<number> {
    return this.prisma.app.count({ where: { state: 'STARTED', currentReleaseId: { not: null } } });
  }

  /** Every route with its domain. */
  allRoutes(): Promise<Array<Route & { domain: Domain }>> {
    return this.prisma.route.findMany({ include: { domain: true } });
  }

  /** The routes of any of the candidate hosts, with domain and destinations. */
  routesOf(candidates: HostCandidate[]): Promise<ProjectedRoute[]> {
    return this.prisma.route.findMany({
      where: { OR: candidates },
      include: { domain: true, destinations: { orderBy: { createdAt: 'asc' } } },
    });
  }

  /** The owner space of each of the candidate hosts that has one. */
  hostOwners(candidates: HostCandidate[]): Promise<Array<{ domainId: string; host: string; spaceId: string }>> {
    return this.prisma.routeHost.findMany({ where: { OR: candidates }, select: { domainId: true, host: true, spaceId: true } });
  }

  /** Every route with a non-empty path, with its host and domain name. */
  routesWithPath(): Promise<Array<{ id: string; path: string; host: string; domain: { name: string } }>> {
    return this.prisma.route.findMany({
      where: { path: { not: '' } },
      select: { id: true, path: true, host: true, domain: { select: { name: true } } },
    });
  }

  /** Rewrites a route's path; rejects with P2002 when the route with that path exists already. */
  async setPath(routeId: string, path: string): Promise<void> {
    await this.prisma.route.update({ where: { id: routeId }, data: { path } });
  }
}
