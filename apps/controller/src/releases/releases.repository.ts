import { Injectable } from '@nestjs/common';
import type { Prisma, Release, Droplet } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import { lockApp, withAppLock } from '../apps/app-lock';
import { dropletsToPrune } from './pruning';

export type ReleaseWithDroplet = Release & { droplet: Droplet };

/** A droplet marked pruned: its blob and its build's source package are to be deleted. */
export interface PrunedDroplet {
  id: string;
  blobId: string;
  buildId: string;
}

export interface NewRelease {
  appId: string;
  dropletId: string;
  env: Record<string, string>;
  processTypes: Record<string, string>;
  description: string;
}

@Injectable()
export class ReleasesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Makes the next numbered release of an app. The app row is locked for the transaction, so
   * concurrent changes never get the same number (no duplicate release).
   */
  async create(release: NewRelease, tx?: Prisma.TransactionClient): Promise<ReleaseWithDroplet> {
    const run = async (t: Prisma.TransactionClient) => {
      await lockApp(t, release.appId);
      const last = await t.release.findFirst({ where: { appId: release.appId }, orderBy: { version: 'desc' } });
      return t.release.create({
        data: {
          appId: release.appId,
          dropletId: release.dropletId,
          env: release.env,
          processTypes: release.processTypes,
          description: release.description,
          version: (last?.version ?? 0) + 1,
        },
        include: { droplet: true },
      });
    };
    return tx ? run(tx) : this.prisma.$transaction(run);
  }

  /** The release `id`, read in `tx`; throws when there is none. */
  get(id: string, tx: Prisma.TransactionClient = this.prisma): Promise<Release> {
    return tx.release.findUniqueOrThrow({ where: { id } });
  }

  /** The droplet `id`, read in `tx`; throws when there is none. */
  droplet(id: string, tx: Prisma.TransactionClient = this.prisma): Promise<Droplet> {
    return tx.droplet.findUniqueOrThrow({ where: { id } });
  }

  find(id: string): Promise<ReleaseWithDroplet | null> {
    return this.prisma.release.findUnique({ where: { id }, include: { droplet: true } });
  }

  findVersion(appId: string, version: number): Promise<ReleaseWithDroplet | null> {
    return this.prisma.release.findUnique({ where: { appId_version: { appId, version } }, include: { droplet: true } });
  }

  /**
   * Marks pruned the droplets of the app beyond its newest `keep` releases (see dropletsToPrune)
   * and returns them. Holds the app's row lock, as a rollback does when it checks the mark: a
   * rollback either sees the droplet pruned or makes a release that keeps it.
   */
  async markPruned(appId: string, keep: number, now = new Date()): Promise<PrunedDroplet[]> {
    return withAppLock(this.prisma, appId, async (tx, locked) => {
      if (!locked) return [];
      const all = await tx.release.findMany({ where: { appId }, select: { id: true, version: true, dropletId: true } });
      const current = all.find((r) => r.id === locked.currentReleaseId)?.dropletId ?? null;
      const ids = dropletsToPrune(all, current, keep);
      if (!ids.length) return [];
      const droplets = await tx.droplet.findMany({ where: { id: { in: ids }, prunedAt: null }, select: { id: true, blobId: true, buildId: true } });
      if (droplets.length) await tx.droplet.updateMany({ where: { id: { in: droplets.map((d) => d.id) } }, data: { prunedAt: now } });
      return droplets;
    });
  }

  /** Ids of the app's failed builds older than its newest `keep` builds (their source packages are dead weight). */
  async staleFailedBuildIds(appId: string, keep: number): Promise<string[]> {
    const newest = await this.prisma.build.findMany({ where: { appId }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: keep, select: { id: true } });
    const stale = await this.prisma.build.findMany({
      where: { appId, state: 'FAILED', id: { notIn: newest.map((b) => b.id) } },
      select: { id: true },
    });
    return stale.map((b) => b.id);
  }

  /** Versions of the app's releases whose droplet is still there, newest first (a rollback can reach them). */
  async rollbackTargets(appId: string, take = 10): Promise<number[]> {
    const rows = await this.prisma.release.findMany({
      where: { appId, droplet: { prunedAt: null } },
      orderBy: { version: 'desc' },
      take,
      select: { version: true },
    });
    return rows.map((r) => r.version);
  }

  /** The versions of the given releases of an app, by id (for instances, which name their release by id). */
  async versionsOf(appId: string, ids: readonly string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await this.prisma.release.findMany({ where: { appId, id: { in: [...new Set(ids)] } }, select: { id: true, version: true } });
    return new Map(rows.map((r) => [r.id, r.version]));
  }

  async list(appId: string, skip: number, take: number): Promise<{ releases: ReleaseWithDroplet[]; total: number }> {
    const [releases, total] = await this.prisma.$transaction([
      this.prisma.release.findMany({ where: { appId }, include: { droplet: true }, orderBy: { version: 'desc' }, skip, take }),
      this.prisma.release.count({ where: { appId } }),
    ]);
    return { releases, total };
  }
}
