import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import type { ServiceBackup } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';

/** A backup with the name of its instance (its view shows it). */
export type ServiceBackupRecord = ServiceBackup & { serviceInstance: { name: string; offering: string; spaceId: string } };

const INCLUDE = { serviceInstance: { select: { name: true, offering: true, spaceId: true } } } satisfies Prisma.ServiceBackupInclude;

/** Service instances' backups as the controller records them; their content is in the blobstore (backups/<id>). */
@Injectable()
export class ServiceBackupsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Records a new backup in progress; undefined when the instance has one in progress already
   * (the partial unique index service_backups_one_in_progress, so two replicas cannot both start one).
   */
  async create(data: { serviceInstanceId: string; trigger: 'scheduled' | 'manual'; format: 'pg_dump' | 'rdb' }): Promise<ServiceBackupRecord | undefined> {
    try {
      return await this.prisma.serviceBackup.create({ data: { ...data, state: 'in progress' }, include: INCLUDE });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  find(id: string): Promise<ServiceBackupRecord | null> {
    return this.prisma.serviceBackup.findUnique({ where: { id }, include: INCLUDE });
  }

  /** The instance's backups, newest first. */
  ofInstance(serviceInstanceId: string): Promise<ServiceBackupRecord[]> {
    return this.prisma.serviceBackup.findMany({ where: { serviceInstanceId }, include: INCLUDE, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  }

  inProgress(serviceInstanceId: string): Promise<ServiceBackup | null> {
    return this.prisma.serviceBackup.findFirst({ where: { serviceInstanceId, state: 'in progress' } });
  }

  /** Ends a backup in progress; false when it was not in progress any more (marked failed meanwhile, or deleted). */
  async finish(id: string, outcome: { state: 'succeeded' | 'failed'; sizeBytes?: number; sha256?: string; durationMs: number; error?: string }): Promise<boolean> {
    const { count } = await this.prisma.serviceBackup.updateMany({
      where: { id, state: 'in progress' },
      data: {
        state: outcome.state,
        sizeBytes: outcome.sizeBytes === undefined ? null : BigInt(outcome.sizeBytes),
        sha256: outcome.sha256 ?? null,
        durationMs: outcome.durationMs,
        error: outcome.error ?? null,
        finishedAt: new Date(),
      },
    });
    return count === 1;
  }

  /** Backups in progress since before `before` (their controller stopped before it finished them). */
  staleInProgress(before: Date): Promise<ServiceBackupRecord[]> {
    return this.prisma.serviceBackup.findMany({ where: { state: 'in progress', createdAt: { lt: before } }, include: INCLUDE });
  }

  /** For each instance, when its newest backup (any trigger, any state) was made. */
  async newestPerInstance(): Promise<Map<string, Date>> {
    const rows = await this.prisma.serviceBackup.groupBy({ by: ['serviceInstanceId'], _max: { createdAt: true } });
    return new Map(rows.filter((r) => r._max.createdAt).map((r) => [r.serviceInstanceId, r._max.createdAt!]));
  }

  /** How many finished scheduled backups each instance has (retention looks at those with more than they keep). */
  async finishedScheduledCounts(): Promise<Map<string, number>> {
    const rows = await this.prisma.serviceBackup.groupBy({ by: ['serviceInstanceId'], where: { trigger: 'scheduled', state: { not: 'in progress' } }, _count: { _all: true } });
    return new Map(rows.map((r) => [r.serviceInstanceId, r._count._all]));
  }

  /** Scheduled backups of the instance that are finished, newest first (retention counts these). */
  finishedScheduled(serviceInstanceId: string): Promise<ServiceBackup[]> {
    return this.prisma.serviceBackup.findMany({
      where: { serviceInstanceId, trigger: 'scheduled', state: { not: 'in progress' } },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
  }

  /** Deletes a backup unless it is in progress; false when it was (or is gone). */
  async deleteFinished(id: string): Promise<boolean> {
    const { count } = await this.prisma.serviceBackup.deleteMany({ where: { id, state: { not: 'in progress' } } });
    return count === 1;
  }

  /** Which of these ids still have a row. */
  async existing(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.prisma.serviceBackup.findMany({ where: { id: { in: ids } }, select: { id: true } });
    return new Set(rows.map((r) => r.id));
  }
}
