import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import type { Domain, Route, RouteDestination } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
import { retryOnConflict } from '../common/retry-on-conflict';

export type RouteWithDomain = Route & { domain: Domain; destinations: RouteDestination[] };

@Injectable()
export class RoutesRepository {
  constructor(private readonly prisma: PrismaService) {}

  findDomainByName(name: string): Promise<Domain | null> {
    return this.prisma.domain.findUnique({ where: { name } });
  }

  /** Makes sure a shared domain exists (the platform's default apps domain). */
  ensureSharedDomain(name: string): Promise<Domain> {
    return retryOnConflict(() => this.prisma.domain.upsert({ where: { name }, create: { name }, update: {} }));
  }

  findRoute(domainId: string, host: string, path: string): Promise<RouteWithDomain | null> {
    return this.prisma.route.findUnique({
      where: { host_domainId_path: { host, domainId, path } },
      include: { domain: true, destinations: true },
    });
  }

  /** Creates the route; undefined when (host, domain, path) is taken (unique violation). */
  async createRoute(spaceId: string, domainId: string, host: string, path: string): Promise<RouteWithDomain | undefined> {
    try {
      return await this.prisma.route.create({
        data: { spaceId, domainId, host, path },
        include: { domain: true, destinations: true },
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  /** Adds a destination unless the same (app, process, port) is already bound to the route. */
  async addDestination(routeId: string, appId: string, processType: string, port: number, weight?: number): Promise<RouteDestination> {
    return this.prisma.routeDestination.upsert({
      where: { routeId_appId_processType_port: { routeId, appId, processType, port } },
      create: { routeId, appId, processType, port, weight: weight ?? null },
      update: { weight: weight ?? null },
    });
  }

  async deleteRoutes(ids: string[]): Promise<void> {
    if (ids.length) await this.prisma.route.deleteMany({ where: { id: { in: ids } } });
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
