import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';

/** A host of a domain: what one space owns (route_hosts). */
export interface HostKey {
  domainId: string;
  host: string;
}

/** Claiming a host kept meeting a concurrent release: so rare that it is a bug, not a user error. */
const CLAIM_ATTEMPTS = 5;

/**
 * Who owns each host (route_hosts): the space of the host's first route owns every route on it.
 * Postgres enforces it (the routes' foreign key on domain, host and space); these calls keep the
 * writers from ever tripping it:
 * - `claim` inside the transaction that creates a route: the owner row is created if missing and
 *   held FOR SHARE until that transaction ends, so it cannot be released under it. Two spaces
 *   claiming a free host at once: the second waits for the first to commit and then sees it as
 *   the owner.
 * - `lockForRelease` then `releaseUnused` inside the transaction that deletes routes: the owner
 *   rows are held FOR UPDATE (a concurrent claim waits), and those left without a route are freed.
 */
@Injectable()
export class RouteHostsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The space owning the host after claiming it for `spaceId` if it was free. */
  async claim(tx: Prisma.TransactionClient, key: HostKey, spaceId: string): Promise<string> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      await tx.$executeRaw`INSERT INTO route_hosts (domain_id, host, space_id) VALUES (${key.domainId}::uuid, ${key.host}, ${spaceId}::uuid)
        ON CONFLICT DO NOTHING`;
      const rows = await tx.$queryRaw<Array<{ space_id: string }>>`SELECT space_id::text AS space_id FROM route_hosts
        WHERE domain_id = ${key.domainId}::uuid AND host = ${key.host} FOR SHARE`;
      // Every unique index is an arbiter (no conflict target): two claims of one space at once
      // meet on (domain, host, space) as well, and only naming (domain, host) let that one raise.
      // No row: it was released between the two statements; claim again.
      if (rows[0]) return rows[0].space_id;
    }
    throw new Error(`could not claim host ${key.host} of domain ${key.domainId}: it was released ${CLAIM_ATTEMPTS} times meanwhile`);
  }

  /** Holds the owner rows of `keys` until the transaction ends (in one order, so two releases cannot deadlock). */
  async lockForRelease(tx: Prisma.TransactionClient, keys: HostKey[]): Promise<void> {
    for (const key of sortedUnique(keys)) {
      await tx.$queryRaw`SELECT 1 FROM route_hosts WHERE domain_id = ${key.domainId}::uuid AND host = ${key.host} FOR UPDATE`;
    }
  }

  /** Frees those of `keys` that no route uses any more: another space may then claim them. */
  async releaseUnused(tx: Prisma.TransactionClient, keys: HostKey[]): Promise<void> {
    for (const key of sortedUnique(keys)) {
      await tx.$executeRaw`DELETE FROM route_hosts h WHERE h.domain_id = ${key.domainId}::uuid AND h.host = ${key.host}
        AND NOT EXISTS (SELECT 1 FROM routes r WHERE r.domain_id = h.domain_id AND r.host = h.host)`;
    }
  }

  /** The space owning the host; undefined when it is free. */
  async ownerOf(key: HostKey): Promise<string | undefined> {
    const row = await this.prisma.routeHost.findUnique({ where: { domainId_host: key }, select: { spaceId: true } });
    return row?.spaceId;
  }

  /** The names of a space and its org, for messages. */
  async spaceName(spaceId: string): Promise<{ space: string; org: string } | undefined> {
    const space = await this.prisma.space.findUnique({ where: { id: spaceId }, select: { name: true, org: { select: { name: true } } } });
    return space ? { space: space.name, org: space.org.name } : undefined;
  }

  /** Deletes routes by id and frees the hosts they leave without a route, in one transaction. */
  async deleteRoutes(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.prisma.$transaction(async (tx) => {
      const keys = await tx.route.findMany({ where: { id: { in: ids } }, select: { domainId: true, host: true } });
      await this.lockForRelease(tx, keys);
      await tx.route.deleteMany({ where: { id: { in: ids } } });
      await this.releaseUnused(tx, keys);
    });
  }
}

function sortedUnique(keys: HostKey[]): HostKey[] {
  const byId = new Map(keys.map((k) => [`${k.domainId}\n${k.host}`, { domainId: k.domainId, host: k.host }]));
  return [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
}
