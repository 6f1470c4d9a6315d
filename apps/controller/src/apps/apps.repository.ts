import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import type { App, Process, Space, Org } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import { retryOnConflict } from '../platform/common/retry-on-conflict';
import { withAppLock, type LockedApp } from './app-lock';

export type AppRecord = App;
export type AppWithSpace = App & { space: Space & { org: Org } };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AppFilter {
  spaceIds?: string[];
  names?: string[];
}

@Injectable()
export class AppsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Runs `work` holding the app's row lock (see `withAppLock`), in `tx` when given, else in a transaction of its own. */
  withLock<T>(appId: string, work: (tx: Prisma.TransactionClient, app: LockedApp | undefined) => Promise<T>, tx?: Prisma.TransactionClient): Promise<T> {
    return withAppLock(this.prisma, appId, work, tx);
  }

  /** The "default" space of the "default" org, where apps go when no space is named. */
  async defaultSpaceId(): Promise<string> {
    const org = await retryOnConflict(() => this.prisma.org.upsert({ where: { name: 'default' }, create: { name: 'default' }, update: {} }));
    const space = await retryOnConflict(() =>
      this.prisma.space.upsert({
        where: { orgId_name: { orgId: org.id, name: 'default' } },
        create: { orgId: org.id, name: 'default' },
        update: {},
      }),
    );
    return space.id;
  }

  spaceExists(spaceId: string): Promise<Space | null> {
    return this.prisma.space.findUnique({ where: { id: spaceId } });
  }

  /** Creates the app with its web process; undefined when the name is taken. */
  async create(spaceId: string, name: string, tx: Prisma.TransactionClient = this.prisma): Promise<AppRecord | undefined> {
    try {
      return await tx.app.create({ data: { name, spaceId, processes: { create: [{ type: 'web' }] } } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  /** By id or by name (names are unique across the platform). */
  find(idOrName: string): Promise<AppWithSpace | null> {
    const where = UUID.test(idOrName) ? { id: idOrName } : { name: idOrName };
    return this.prisma.app.findUnique({ where, include: { space: { include: { org: true } } } });
  }

  findByName(name: string): Promise<AppRecord | null> {
    return this.prisma.app.findUnique({ where: { name } });
  }

  async list(filter: AppFilter, skip: number, take: number): Promise<{ apps: AppWithSpace[]; total: number }> {
    const where: Prisma.AppWhereInput = {
      ...(filter.spaceIds ? { spaceId: { in: filter.spaceIds } } : {}),
      ...(filter.names ? { name: { in: filter.names } } : {}),
    };
    const [apps, total] = await this.prisma.$transaction([
      this.prisma.app.findMany({ where, include: { space: { include: { org: true } } }, orderBy: [{ name: 'asc' }, { id: 'asc' }], skip, take }),
      this.prisma.app.count({ where }),
    ]);
    return { apps, total };
  }

  /** Renames; false when the new name is taken. */
  async rename(id: string, name: string): Promise<boolean> {
    try {
      await this.prisma.app.update({ where: { id }, data: { name } });
      return true;
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return false;
      throw error;
    }
  }

  async setState(id: string, state: 'STARTED' | 'STOPPED'): Promise<void> {
    await this.prisma.app.update({ where: { id }, data: { state } });
  }

  processes(appId: string): Promise<Process[]> {
    return this.prisma.process.findMany({ where: { appId }, orderBy: { type: 'asc' } });
  }

  async buildIds(appId: string): Promise<string[]> {
    return (await this.prisma.build.findMany({ where: { appId }, select: { id: true } })).map((b) => b.id);
  }

  async delete(id: string): Promise<void> {
    await this.prisma.app.deleteMany({ where: { id } });
  }

  async setCurrentRelease(appId: string, releaseId: string): Promise<void> {
    await this.prisma.app.update({ where: { id: appId }, data: { currentReleaseId: releaseId } });
  }

  async setEnv(appId: string, env: Record<string, string>, tx: Prisma.TransactionClient = this.prisma): Promise<void> {
    await tx.app.update({ where: { id: appId }, data: { env } });
  }

  /** Sets the env and marks the app started (a rollback takes its target's env). */
  async setEnvAndStart(appId: string, env: Record<string, string>, tx: Prisma.TransactionClient = this.prisma): Promise<void> {
    await tx.app.update({ where: { id: appId }, data: { env, state: 'STARTED' } });
  }

  /** The app's process of `type`; throws when there is none. */
  processOf(appId: string, type: string, tx: Prisma.TransactionClient = this.prisma): Promise<Process> {
    return tx.process.findUniqueOrThrow({ where: { appId_type: { appId, type } } });
  }

  updateProcess(id: string, data: Prisma.ProcessUpdateInput, tx: Prisma.TransactionClient = this.prisma): Promise<Process> {
    return tx.process.update({ where: { id }, data });
  }

  /** Ids of the started apps with a release and no deployment in progress: what the convergence loop looks at. */
  async convergeCandidates(): Promise<string[]> {
    const apps = await this.prisma.app.findMany({
      where: { state: 'STARTED', currentReleaseId: { not: null }, deployments: { none: { state: 'DEPLOYING' } } },
      select: { id: true },
    });
    return apps.map((a) => a.id);
  }

  /**
   * Runs `work` holding the app's row lock when the app is still started with no deployment in
   * progress and nobody else holds the lock (`FOR UPDATE SKIP LOCKED`); else returns `skipped`
   * without waiting. The lock is held until `work` ends.
   */
  whenConvergeable<T>(appId: string, work: () => Promise<T>, skipped: T): Promise<T> {
    return this.prisma.$transaction(
      async (tx) => {
        const locked = await tx.$queryRaw<Array<{ id: string }>>`
          SELECT a.id FROM apps a WHERE a.id = ${appId}::uuid AND a.state = 'STARTED'
            AND NOT EXISTS (SELECT 1 FROM deployments d WHERE d.app_id = a.id AND d.state = 'DEPLOYING')
          FOR UPDATE SKIP LOCKED`;
        return locked.length ? work() : skipped;
      },
      { timeout: 30_000, maxWait: 5_000 },
    );
  }
}
