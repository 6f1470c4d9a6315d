import { Inject, Injectable } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { ServiceBackupView } from '@paas/contracts';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { Actor } from '../auth/actor';
import { SYSTEM_ACTOR, EventsService } from '../audit/events.service';
import { BlobstoreService } from '../storage/blobstore.service';
import { MeterStream, pgDumpRun, redisRdbRun, runChild } from './backup-processes';
import { adminLoginOf, kindOf } from './service-admin.service';
import { ServiceBackupsRepository, type ServiceBackupRecord } from './service-backups.repository';
import type { ServiceInstanceRecord } from './service-instances.repository';
import { ServiceInstancesService, serviceTarget } from './service-instances.service';
import { isProvisioned } from './service-views';

/** How long a pg_dump or an RDB transfer may run before it is killed and the backup failed. */
export const BACKUP_TIMEOUT_MS = 15 * 60_000;

type Trigger = 'scheduled' | 'manual';

/**
 * Backups of managed service instances: made in the background on the controller that records
 * them (pg_dump -Fc, or an RDB snapshot over SYNC with redis-cli), streamed into the blobstore
 * (backups/<id>) with their size and sha256 counted on the way, bounded by BACKUP_TIMEOUT_MS and
 * by the plan's disk. One at a time per instance (a second is a 409). Listed newest first, read,
 * deleted. The schedule and retention are the backups pass's (service-backups-pass.service.ts).
 */
@Injectable()
export class ServiceBackupsService {
  /** Backups this process is making now, and what each will settle into. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly backups: ServiceBackupsRepository,
    private readonly instances: ServiceInstancesService,
    private readonly blobs: BlobstoreService,
    private readonly events: EventsService,
  ) {}

  async list(actor: Actor, idOrName: string, spaceId?: string): Promise<ServiceBackupView[]> {
    const instance = await this.instances.resolve(actor, idOrName, 'read', spaceId);
    return (await this.backups.ofInstance(instance.id)).map(serviceBackupView);
  }

  async get(actor: Actor, idOrName: string, backupId: string, spaceId?: string): Promise<ServiceBackupView> {
    const instance = await this.instances.resolve(actor, idOrName, 'read', spaceId);
    return serviceBackupView(await this.backupOf(instance, backupId));
  }

  /** `POST .../backups`: a manual backup, answered at once in progress (202). */
  async request(actor: Actor, idOrName: string, spaceId?: string): Promise<ServiceBackupView> {
    const instance = await this.instances.resolve(actor, idOrName, 'write', spaceId);
    return serviceBackupView(await this.start(instance, 'manual', actor));
  }

  async delete(actor: Actor, idOrName: string, backupId: string, spaceId?: string): Promise<void> {
    const instance = await this.instances.resolve(actor, idOrName, 'write', spaceId);
    const backup = await this.backupOf(instance, backupId);
    if (!(await this.backups.deleteFinished(backup.id))) {
      throw new DomainException(ErrorCode.ServiceInstanceNotReady, `backup ${backup.id} is in progress: delete it once it has finished`);
    }
    await this.blobs.remove('backups', backup.id);
    await this.events.record(actor, 'service-backup-deleted', serviceTarget(instance), { backup_id: backup.id, trigger: backup.trigger });
  }

  /**
   * Records a backup of the instance in progress and makes it in the background. 422 for an
   * instance that has no server of ours; 409 while it cannot be backed up (being created,
   * restored, resized or deleted) or while another backup of it runs.
   */
  async start(instance: ServiceInstanceRecord, trigger: Trigger, actor: Actor | typeof SYSTEM_ACTOR = SYSTEM_ACTOR): Promise<ServiceBackupRecord> {
    requireBackupable(instance);
    const kind = kindOf(instance);
    const backup = await this.backups.create({ serviceInstanceId: instance.id, trigger, format: kind === 'postgresql' ? 'pg_dump' : 'rdb' });
    if (!backup) throw new DomainException(ErrorCode.ServiceInstanceNotReady, `a backup of ${instance.name} is in progress already: wait for it (GET /v1/service_instances/${instance.name}/backups)`);
    await this.events.record(actor, 'service-backup-started', serviceTarget(instance), { backup_id: backup.id, trigger });
    const work = this.make(instance, backup).finally(() => this.running.delete(backup.id));
    this.running.set(backup.id, work);
    return backup;
  }

  /** Settles once every backup this process is making has finished (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all(this.running.values());
  }

  private async make(instance: ServiceInstanceRecord, backup: ServiceBackupRecord): Promise<void> {
    const started = Date.now();
    try {
      const login = adminLoginOf(instance);
      const meter = new MeterStream(instance.diskMb * 1024 * 1024, 'the backup');
      if (kindOf(instance) === 'postgresql') {
        await runChild(pgDumpRun(login, instance.id, BACKUP_TIMEOUT_MS), (stdout) => this.blobs.put('backups', backup.id, stdout.pipe(meter)));
      } else {
        // redis-cli writes the snapshot to a file of its own (see redisRdbRun), then it goes into the blobstore as a pg_dump does.
        const file = `${this.blobs.path('backups', backup.id)}.rdb.tmp`;
        try {
          await runChild(redisRdbRun(login, file, BACKUP_TIMEOUT_MS));
          await this.blobs.put('backups', backup.id, createReadStream(file).pipe(meter));
        } finally {
          await rm(file, { force: true });
        }
      }
      if (meter.bytes === 0) throw new Error('the backup is empty');
      const sha256 = meter.sha256();
      if (await this.backups.finish(backup.id, { state: 'succeeded', sizeBytes: meter.bytes, sha256, durationMs: Date.now() - started })) {
        await this.events.record(SYSTEM_ACTOR, 'service-backup-succeeded', serviceTarget(instance), { backup_id: backup.id, trigger: backup.trigger, size_bytes: meter.bytes });
        this.logger.info({ instance: instance.name, backup: backup.id, bytes: meter.bytes }, 'service-backup-succeeded');
      } else {
        await this.blobs.remove('backups', backup.id);
      }
    } catch (error) {
      const reason = (error as Error).message;
      await this.blobs.remove('backups', backup.id).catch(() => undefined);
      await this.fail(instance, backup, reason, Date.now() - started).catch((e: Error) => this.logger.warn({ err: e, backup: backup.id }, 'service-backup-record-failed'));
    }
  }

  /** Marks a backup in progress failed, with an event; nothing when it was not in progress any more. */
  async fail(instance: { id: string; name: string; spaceId: string }, backup: { id: string; trigger: string }, reason: string, durationMs: number | null): Promise<void> {
    if (!(await this.backups.finish(backup.id, { state: 'failed', durationMs: durationMs ?? 0, error: reason }))) return;
    await this.events.record(SYSTEM_ACTOR, 'service-backup-failed', serviceTarget(instance), { backup_id: backup.id, trigger: backup.trigger, reason });
    this.logger.warn({ instance: instance.name, backup: backup.id, reason }, 'service-backup-failed');
  }

  /** Is this process making that backup now? */
  isRunningHere(backupId: string): boolean {
    return this.running.has(backupId);
  }

  private async backupOf(instance: ServiceInstanceRecord, backupId: string): Promise<ServiceBackupRecord> {
    const backup = /^[0-9a-f-]{36}$/.test(backupId) ? await this.backups.find(backupId) : null;
    if (!backup || backup.serviceInstanceId !== instance.id) throw notFound('backup', backupId, `list the backups of ${instance.name} with GET /v1/service_instances/${instance.name}/backups`);
    return backup;
  }
}

/** 422 for an instance that is not a server of ours; 409 while it is not created or another operation runs. */
export function requireBackupable(instance: ServiceInstanceRecord): void {
  if (instance.type !== 'managed') {
    throw new DomainException(ErrorCode.Unprocessable, `service instance ${instance.name} is ${instance.type}: only managed instances (the platform's own postgresql and redis) have backups`);
  }
  if (!isProvisioned(instance) || !instance.host) {
    throw new DomainException(ErrorCode.ServiceInstanceNotReady, `service instance ${instance.name} has no server to back up (its ${instance.operationType} is ${instance.operationState}): wait until it is created`);
  }
  if (instance.operationState === 'in progress') {
    throw new DomainException(ErrorCode.ServiceInstanceNotReady, `service instance ${instance.name} has its ${instance.operationType} in progress: try again once it has finished`);
  }
}

export function serviceBackupView(backup: ServiceBackupRecord): ServiceBackupView {
  return {
    id: backup.id,
    service_instance_id: backup.serviceInstanceId,
    service_instance_name: backup.serviceInstance.name,
    trigger: backup.trigger as ServiceBackupView['trigger'],
    state: backup.state as ServiceBackupView['state'],
    format: backup.format as ServiceBackupView['format'],
    size_bytes: backup.sizeBytes === null ? null : Number(backup.sizeBytes),
    sha256: backup.sha256,
    duration_ms: backup.durationMs,
    error: backup.error,
    created_at: backup.createdAt.toISOString(),
    finished_at: backup.finishedAt?.toISOString() ?? null,
  };
}
