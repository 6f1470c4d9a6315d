import { Injectable } from '@nestjs/common';
import type { Domain, Prisma, Process, Route, RouteDestination } from '../../generated/prisma/client';
import { PrismaService } from '../../platform/database/prisma.service';
import { RouteHostsRepository } from '../../routing/route-hosts.repository';
import { APP_PORT } from '../../routing/routes.schemas';
import type { KnownDomain, ProcessFields } from './manifest-plan';

export type WebBinding = RouteDestination & { route: Route & { domain: Domain } };

/**
 * What applying a manifest reads and writes. The writes take the push's transaction (`tx`), so a
 * manifest is applied whole with its release, or not at all. Inserts that may meet a row of a
 * concurrent change use ON CONFLICT DO NOTHING (createMany + skipDuplicates), which does not abort
 * the transaction the way a unique violation would.
 */
@Injectable()
export class ManifestRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly hosts: RouteHostsRepository,
  ) {}

  /** The domains with these names, and every domain the org may use (shared, or its own), at most 100. */
  async domainsFor(names: string[], orgId: string): Promise<KnownDomain[]> {
    const select = { id: true, name: true, orgId: true, verifiedAt: true } as const;
    const [named, usable] = await Promise.all([
      // Another org's pending claim of a name is not a domain the manifest may see.
      this.prisma.domain.findMany({ where: { name: { in: names }, OR: [{ verifiedAt: { not: null } }, { orgId }] }, select }),
      this.prisma.domain.findMany({ where: { OR: [{ orgId: null }, { orgId }] }, select, orderBy: { name: 'asc' }, take: 100 }),
    ]);
    return [...new Map([...usable, ...named].map((d) => [d.id, d])).values()];
  }

  /** The verified domain of that name (one at most; other orgs' pending claims may share the name). */
  findDomainByName(name: string, tx: Prisma.TransactionClient = this.prisma): Promise<Domain | null> {
    return tx.domain.findFirst({ where: { name, verifiedAt: { not: null } } });
  }

  findRoute(domainId: string, host: string, path: string, tx: Prisma.TransactionClient = this.prisma): Promise<Route | null> {
    return tx.route.findUnique({ where: { host_domainId_path: { host, domainId, path } } });
  }

  processes(appId: string, tx: Prisma.TransactionClient = this.prisma): Promise<Process[]> {
    return tx.process.findMany({ where: { appId } });
  }

  /** Updates the process of this type, or creates it with these fields over the defaults. */
  async saveProcess(tx: Prisma.TransactionClient, appId: string, type: string, existingId: string | undefined, fields: Partial<ProcessFields>): Promise<void> {
    if (existingId) {
      if (Object.keys(fields).length) await tx.process.update({ where: { id: existingId }, data: fields });
      return;
    }
    await tx.process.createMany({ data: [{ appId, type, ...fields }], skipDuplicates: true });
  }

  async setEnv(tx: Prisma.TransactionClient, appId: string, env: Record<string, string>): Promise<void> {
    await tx.app.update({ where: { id: appId }, data: { env } });
  }

  /**
   * The route (host, domain, path), created in `spaceId` unless it exists, after claiming its host
   * for that space inside the push's transaction (held until it ends); `created` says which.
   * `ownerSpaceId` instead when another space owns the host, whatever the path.
   */
  async ensureRoute(
    tx: Prisma.TransactionClient,
    spaceId: string,
    domainId: string,
    host: string,
    path: string,
  ): Promise<{ route: Route; created: boolean } | { ownerSpaceId: string }> {
    const owner = await this.hosts.claim(tx, { domainId, host }, spaceId);
    if (owner !== spaceId) return { ownerSpaceId: owner };
    const { count } = await tx.route.createMany({ data: [{ spaceId, domainId, host, path }], skipDuplicates: true });
    const route = await tx.route.findUniqueOrThrow({ where: { host_domainId_path: { host, domainId, path } } });
    return { route, created: count === 1 };
  }

  /** The space owning a host; undefined when it is free. */
  hostOwner(domainId: string, host: string): Promise<string | undefined> {
    return this.hosts.ownerOf({ domainId, host });
  }

  /** Binds the app's web process to the route on $PORT; false when it already was. */
  async bindWeb(tx: Prisma.TransactionClient, routeId: string, appId: string): Promise<{ id: string; created: boolean }> {
    const { count } = await tx.routeDestination.createMany({ data: [{ routeId, appId, processType: 'web', port: APP_PORT }], skipDuplicates: true });
    const row = await tx.routeDestination.findUniqueOrThrow({
      where: { routeId_appId_processType_port: { routeId, appId, processType: 'web', port: APP_PORT } },
    });
    return { id: row.id, created: count === 1 };
  }

  webBindings(tx: Prisma.TransactionClient, appId: string): Promise<WebBinding[]> {
    return tx.routeDestination.findMany({ where: { appId, processType: 'web' }, include: { route: { include: { domain: true } } } });
  }

  async deleteDestinations(tx: Prisma.TransactionClient, ids: string[]): Promise<void> {
    if (ids.length) await tx.routeDestination.deleteMany({ where: { id: { in: ids } } });
  }

  async hasRoute(tx: Prisma.TransactionClient, appId: string): Promise<boolean> {
    return (await tx.routeDestination.count({ where: { appId } })) > 0;
  }
}
