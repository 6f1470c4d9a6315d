import { Injectable } from '@nestjs/common';
import type { Build, Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../platform/database/prisma.service';
import { lockApp } from '../../apps/app-lock';

@Injectable()
export class BuildsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Runs `work` in one transaction; the caller locks the app in it (`lockAppEnv`) and passes `tx` on. */
  inTransaction<T>(work: (tx: Prisma.TransactionClient) => Promise<T>, options: { timeout: number; maxWait: number }): Promise<T> {
    return this.prisma.$transaction(work, options);
  }

  create(appId: string, commitSha: string): Promise<Build> {
    return this.prisma.build.create({ data: { appId, commitSha } });
  }

  /** The cell that staged the app's newest successful build (its build cache is there). */
  async lastStagingCell(appId: string): Promise<string | undefined> {
    const last = await this.prisma.build.findFirst({ where: { appId, state: 'STAGED', cellId: { not: null } }, orderBy: { createdAt: 'desc' }, select: { cellId: true } });
    return last?.cellId ?? undefined;
  }

  async assignCell(id: string, cellId: string): Promise<void> {
    await this.prisma.build.update({ where: { id }, data: { cellId } });
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.prisma.build.update({ where: { id }, data: { state: 'FAILED', error } });
  }

  /**
   * Pushes that may have lost their controller: builds still STAGING or whose log is still open,
   * created before `createdBefore` (a push takes its lease right after creating its build).
   */
  unfinishedBefore(createdBefore: Date): Promise<Array<Pick<Build, 'id' | 'appId' | 'state' | 'cellId'> & { app: { name: string } }>> {
    return this.prisma.build.findMany({
      where: { createdAt: { lt: createdBefore }, OR: [{ state: 'STAGING' }, { logClosedAt: null }] },
      select: { id: true, appId: true, state: true, cellId: true, app: { select: { name: true } } },
    });
  }

  /** FAILED with `error` if still STAGING (its controller may have finished it meanwhile); true when it was. */
  async failIfStaging(id: string, error: string): Promise<boolean> {
    const { count } = await this.prisma.build.updateMany({ where: { id, state: 'STAGING' }, data: { state: 'FAILED', error } });
    return count === 1;
  }

  /** Marks the build staged and records its droplet (blob = the build id). */
  async markStaged(build: Build, buildpack: string, processTypes: Record<string, string>): Promise<string> {
    const [, droplet] = await this.prisma.$transaction([
      this.prisma.build.update({ where: { id: build.id }, data: { state: 'STAGED', buildpack, startCommand: processTypes.web ?? null } }),
      this.prisma.droplet.create({ data: { appId: build.appId, buildId: build.id, blobId: build.id, buildpack, processTypes } }),
    ]);
    return droplet.id;
  }

  async list(appId: string, skip: number, take: number): Promise<{ builds: Build[]; total: number }> {
    const [builds, total] = await this.prisma.$transaction([
      this.prisma.build.findMany({ where: { appId }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], skip, take }),
      this.prisma.build.count({ where: { appId } }),
    ]);
    return { builds, total };
  }

  /** Locks the app's row for the transaction and returns its env (the push's release is made under this lock). */
  async lockAppEnv(appId: string, tx: Prisma.TransactionClient): Promise<Record<string, string>> {
    return (await lockApp(tx, appId))?.env ?? {};
  }

  async hasActiveDeployment(appId: string, tx: Prisma.TransactionClient): Promise<boolean> {
    return (await tx.deployment.count({ where: { appId, state: 'DEPLOYING' } })) > 0;
  }

  /** Adds the process types an app does not have yet, with 0 instances (web, if new, gets 1). */
  async ensureProcesses(appId: string, types: string[], tx: Prisma.TransactionClient): Promise<void> {
    await tx.process.createMany({
      // Only web listens on $PORT; other types are checked by their process staying up.
      data: types.map((type) => ({ appId, type, instances: type === 'web' ? 1 : 0, healthCheckType: type === 'web' ? ('PORT' as const) : ('PROCESS' as const) })),
      skipDuplicates: true,
    });
  }
}
