import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { BlobstoreService } from '../storage/blobstore.service';
import { ServiceBackupsRepository } from './service-backups.repository';
import { BACKUP_TIMEOUT_MS, ServiceBackupsService } from './service-backups.service';
import { ServiceInstancesRepository, type ServiceInstanceRecord } from './service-instances.repository';
import { ServiceRestoresService } from './service-restores.service';
import type { ServiceBackup } from '../generated/prisma/client';

/** A backup in progress this long was left by a controller that stopped (its own timeout would have ended it before). */
export const STALE_BACKUP_MS = BACKUP_TIMEOUT_MS + 5 * 60_000;
/** How often blobs of backups whose rows are gone (deleted instances) are removed. */
const ORPHAN_SWEEP_MS = 60_000;

/**
 * The backups pass (run on the convergence leader, see convergence/service-passes-loop.service.ts):
 * - restores in progress are carried on (ServiceRestoresService.advance);
 * - backups left in progress for STALE_BACKUP_MS by a controller that stopped are marked failed;
 * - every created managed instance whose newest backup (any trigger, any outcome; without one:
 *   its creation) is older than SERVICE_BACKUP_INTERVAL_S gets a `scheduled` one (so a failed
 *   backup is tried again at the next interval, not at once); none when its backup_retention is 0;
 * - retention: of its scheduled backups, the newest `backupRetention` succeeded ones are kept,
 *   and failed ones only while they are among the newest `backupRetention` failed and newer than
 *   the oldest succeeded one kept (failures never push good backups out); manual ones stay until deleted;
 * - blobs of backups whose rows are gone (their instance was deleted: rows cascade) are removed.
 * Each step re-checks what it changes, so two replicas running it at once do no harm.
 */
@Injectable()
export class ServiceBackupsPass {
  private lastSweep = 0;

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly instances: ServiceInstancesRepository,
    private readonly backups: ServiceBackupsRepository,
    private readonly making: ServiceBackupsService,
    private readonly restores: ServiceRestoresService,
    private readonly blobs: BlobstoreService,
  ) {}

  async pass(now = Date.now()): Promise<void> {
    for (const instance of await this.instances.inProgress()) {
      if (instance.operationType !== 'restore') continue;
      await this.restores.advance(instance, now).catch((error: Error) => this.logger.warn({ err: error, instance: instance.name }, 'service-restore-step-failed'));
    }
    for (const backup of await this.backups.staleInProgress(new Date(now - STALE_BACKUP_MS))) {
      if (this.making.isRunningHere(backup.id)) continue;
      const reason = `its controller stopped before it finished (in progress for more than ${STALE_BACKUP_MS / 60_000} minutes)`;
      await this.making.fail({ id: backup.serviceInstanceId, name: backup.serviceInstance.name, spaceId: backup.serviceInstance.spaceId }, backup, reason, now - backup.createdAt.getTime());
    }
    const managed = (await this.instances.created()).filter((i) => i.type === 'managed');
    const [newest, finished] = await Promise.all([this.backups.newestPerInstance(), this.backups.finishedScheduledCounts()]);
    for (const instance of managed) {
      await this.schedule(instance, newest.get(instance.id) ?? instance.createdAt, now).catch((error: Error) => this.logger.warn({ err: error, instance: instance.name }, 'service-backup-schedule-failed'));
      if ((finished.get(instance.id) ?? 0) <= Math.max(0, instance.backupRetention)) continue;
      await this.prune(instance).catch((error: Error) => this.logger.warn({ err: error, instance: instance.name }, 'service-backup-prune-failed'));
    }
    if (Math.abs(now - this.lastSweep) >= ORPHAN_SWEEP_MS) {
      this.lastSweep = now;
      await this.sweepOrphans(now);
    }
  }

  private async schedule(instance: ServiceInstanceRecord, newest: Date, now: number): Promise<void> {
    if (instance.backupRetention <= 0 || !instance.host || instance.operationState === 'in progress') return;
    if (now - newest.getTime() < this.config.serviceBackupIntervalMs) return;
    const backup = await this.making.start(instance, 'scheduled');
    this.logger.info({ instance: instance.name, backup: backup.id }, 'service-backup-scheduled');
  }

  private async prune(instance: ServiceInstanceRecord): Promise<void> {
    for (const backup of beyondRetention(await this.backups.finishedScheduled(instance.id), instance.backupRetention)) await this.remove(instance, backup);
  }

  private async remove(instance: ServiceInstanceRecord, backup: ServiceBackup): Promise<void> {
    if (!(await this.backups.deleteFinished(backup.id))) return;
    await this.blobs.remove('backups', backup.id);
    this.logger.info({ instance: instance.name, backup: backup.id, retention: instance.backupRetention }, 'service-backup-pruned');
  }

  /** Blobs without a row: their instance was deleted (rows cascade), or a write finished after its row went. */
  private async sweepOrphans(now: number): Promise<void> {
    const blobs = (await this.blobs.list('backups')).filter((b) => now - b.modifiedAt.getTime() > 10_000);
    const rows = await this.backups.existing(blobs.map((b) => b.id));
    for (const blob of blobs) if (!rows.has(blob.id)) await this.blobs.remove('backups', blob.id);
  }
}

/**
 * Which of an instance's finished scheduled backups (newest first) retention deletes: all but the
 * newest `retention` succeeded ones, and the failed ones but those among the newest `retention`
 * failed that are newer than the oldest succeeded one kept (failures never push good backups
 * out, and stay visible a while). Pure.
 */
export function beyondRetention<B extends Pick<ServiceBackup, 'id' | 'state' | 'createdAt'>>(finished: readonly B[], retention: number): B[] {
  const keep = Math.max(0, retention);
  const kept = finished.filter((b) => b.state === 'succeeded').slice(0, keep);
  const oldestKept = kept.length === keep && keep > 0 ? kept[kept.length - 1]!.createdAt : undefined;
  const failedKept = finished
    .filter((b) => b.state === 'failed')
    .slice(0, keep)
    .filter((b) => !oldestKept || b.createdAt >= oldestKept);
  const keepIds = new Set([...kept, ...failedKept].map((b) => b.id));
  return finished.filter((b) => !keepIds.has(b.id));
}
