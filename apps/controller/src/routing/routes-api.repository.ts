import { Injectable } from '@nestjs/common';
import type { App, Prisma, Process, RouteDestination, Space } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import { RouteHostsRepository } from './route-hosts.repository';
import type { RouteWithAll, DestinationWithApp } from './routes.views';

export interface RouteFilter {
  spaceIds?: string[];
  hosts?: string[];
  domainIds?: string[];
  appIds?: string[];
  paths?: string[];
}

export interface DestinationKey {
  appId: string;
  processType: string;
  port: number;
}

const WITH_ALL = {
  domain: true,
  destinations: { include: { app: { select: { id: true, name: true } } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
} satisfies Prisma.RouteInclude;

/**
 * Routes and their destinations as the routes API reads and changes them. Destination writes run
 * inside `withLockedRoute`: a transaction holding the route row `FOR UPDATE`, so concurrent
 * changes to one route's destinations apply one after the other and none is lost.
 */
@Injectable()
export class RoutesApiRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly hosts: RouteHostsRepository,
  ) {}

  async list(filter: RouteFilter, skip: number, take: number): Promise<{ routes: RouteWithAll[]; total: number }> {
    const where: Prisma.RouteWhereInput = {
      ...(filter.spaceIds ? { spaceId: { in: filter.spaceIds } } : {}),
      ...(filter.hosts ? { host: { in: filter.hosts } } : {}),
      ...(filter.domainIds ? { domainId: { in: filter.domainIds } } : {}),
      ...(filter.paths ? { path: { in: filter.paths } } : {}),
      ...(filter.appIds ? { destinations: { some: { appId: { in: filter.appIds } } } } : {}),
    };
    const [routes, total] = await this.prisma.$transaction([
      this.prisma.route.findMany({ where, include: WITH_ALL, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], skip, take }),
      this.prisma.route.count({ where }),
    ]);
    return { routes, total };
  }

  find(id: string): Promise<RouteWithAll | null> {
    return this.prisma.route.findUnique({ where: { id }, include: WITH_ALL });
  }

  findSpace(id: string): Promise<Space | null> {
    return this.prisma.space.findUnique({ where: { id } });
  }

  findApps(ids: string[]): Promise<Array<App & { processes: Process[] }>> {
    return this.prisma.app.findMany({ where: { id: { in: ids } }, include: { processes: true } });
  }

  /** Sets the route's HTTPS settings; false when the route is gone. */
  async updateSettings(id: string, data: { httpsRedirect?: boolean; hstsMaxAge?: number | null }): Promise<boolean> {
    const { count } = await this.prisma.route.updateMany({ where: { id }, data });
    return count === 1;
  }

  /** Deletes the route (with its destinations); its host is free again when it was the last route on it. */
  delete(id: string): Promise<void> {
    return this.hosts.deleteRoutes([id]);
  }

  /**
   * Runs `fn` in a transaction that holds the route's row lock; undefined when the route is gone.
   * Safe to call concurrently: callers on the same route wait for each other.
   */
  async withLockedRoute<T>(routeId: string, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T | undefined> {
    return this.prisma.$transaction(
      async (tx) => {
        const locked = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM routes WHERE id = ${routeId}::uuid FOR UPDATE`;
        if (locked.length === 0) return undefined;
        return fn(tx);
      },
      { maxWait: 20_000, timeout: 20_000 },
    );
  }

  destinationsOf(routeId: string, tx: Prisma.TransactionClient): Promise<DestinationWithApp[]> {
    return tx.routeDestination.findMany({
      where: { routeId },
      include: { app: { select: { id: true, name: true } } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  /** Binds (or re-weights) one destination; answers the row and whether it is new. */
  async upsertDestination(routeId: string, key: DestinationKey, weight: number | null, tx: Prisma.TransactionClient): Promise<RouteDestination> {
    return tx.routeDestination.upsert({
      where: { routeId_appId_processType_port: { routeId, ...key } },
      create: { routeId, ...key, weight },
      update: { weight },
    });
  }

  async deleteDestinations(routeId: string, ids: string[], tx: Prisma.TransactionClient): Promise<number> {
    const { count } = await tx.routeDestination.deleteMany({ where: { routeId, id: { in: ids } } });
    return count;
  }
}
