import { Inject, Injectable } from '@nestjs/common';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { serviceJobId, type RestoreServiceJob, type ServiceInstanceView } from '@paas/contracts';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { EventsService, SYSTEM_ACTOR } from '../audit/events.service';
import { CellQueuesService } from '../placement/cell-queues.service';
import { BlobstoreService } from '../storage/blobstore.service';
import { MeterStream, pgRestoreRun, runChild } from './backup-processes';
import { terminateDatabaseSessions, type ServerLogin } from './postgres-admin';
import { adminLoginOf, kindOf } from './service-admin.service';
import { ServiceBackupsRepository, type ServiceBackupRecord } from './service-backups.repository';
import { requireBackupable } from './service-backups.service';
import { ServiceInstancesRepository, type ServiceInstanceRecord } from './service-instances.repository';
import { ServiceInstancesService, serviceTarget } from './service-instances.service';

/** How long a restore may take (pg_restore is killed then; a cell's restore-service job is given up on). */
export const RESTORE_TIMEOUT_MS = 30 * 60_000;

/** Where a restore stands: still running, done, or failed with why. */
export type RestoreStep = { state: 'running'; description: string } | { state: 'succeeded' } | { state: 'failed'; reason: string };

/**
 * Restores of backups into managed instances, the instance's own backups or those of another
 * instance of the same offering the actor can read. `POST .../restores` marks the instance
 * `restore in progress` (restoreBackupId set); the convergence leader's backups pass then carries
 * it out (advance) and ends it `succeeded` or `failed` with why; the provisioning pass does the
 * same for a create from a backup once its server is prepared (step). Postgres: the sessions to
 * the instance's database are terminated, then pg_restore puts the dump back in one transaction
 * (a failure leaves the old data). Redis: the instance's cell runs the restore-service job, which
 * keeps the old data aside and puts it back when the restored one does not run. Both are safe to
 * carry out again (after a leader change): the restore gives the same result.
 */
@Injectable()
export class ServiceRestoresService {
  /** Postgres restores this process runs, by instance and backup, with their outcome once known. */
  private readonly runs = new Map<string, { outcome?: RestoreStep }>();

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly instances: ServiceInstancesRepository,
    private readonly service: ServiceInstancesService,
    private readonly backups: ServiceBackupsRepository,
    private readonly blobs: BlobstoreService,
    private readonly queues: CellQueuesService,
    private readonly access: AccessService,
    private readonly events: EventsService,
  ) {}

  /** `POST /v1/service_instances/:instance/restores {backup_id}` → 202, the instance `restore in progress`. */
  async request(actor: Actor, idOrName: string, backupId: string, spaceId?: string): Promise<ServiceInstanceView> {
    const instance = await this.service.resolve(actor, idOrName, 'write', spaceId);
    requireBackupable(instance);
    const backup = await this.backupFor(actor, instance, backupId);
    if (await this.backups.inProgress(instance.id)) {
      throw new DomainException(ErrorCode.ServiceInstanceNotReady, `a backup of ${instance.name} is in progress: restore once it has finished`);
    }
    // A restore of the same backup before left its finished job: gone first, so that it does not count for this one.
    if (instance.cellId) await this.queues.forgetFinished(instance.cellId, serviceJobId.restore(instance.id, backup.id));
    const description = `restoring backup ${backup.id} of ${backup.serviceInstance.name} (${backup.createdAt.toISOString()})`;
    if (!(await this.instances.startRestore(instance.id, backup.id, description))) {
      throw new DomainException(ErrorCode.ServiceInstanceNotReady, `service instance ${instance.name} has another operation in progress: try again once it has finished`);
    }
    if (kindOf(instance) === 'redis' && instance.cellId) await this.queues.restoreService(instance.cellId, this.restoreJob(instance, backup));
    await this.events.record(actor, 'service-instance-restore-requested', serviceTarget(instance), { backup_id: backup.id, from_instance: backup.serviceInstance.name });
    this.logger.info({ instance: instance.name, backup: backup.id }, 'service-instance-restore-requested');
    return this.service.viewOf(instance.id);
  }

  /**
   * The backup `backupId` to restore into an instance of `target.offering`: 404 when it does not
   * exist or the actor cannot read its instance's space, 422 when it is of another offering (or
   * of another space when `sameSpace`), 409 while it is not `succeeded`.
   */
  async backupFor(actor: Actor, target: { offering: string; spaceId: string }, backupId: string, options: { sameSpace?: boolean } = {}): Promise<ServiceBackupRecord> {
    const backup = /^[0-9a-f-]{36}$/.test(backupId) ? await this.backups.find(backupId) : null;
    const missing = notFound('backup', backupId, 'list the backups of an instance with GET /v1/service_instances/NAME/backups');
    if (!backup) throw missing;
    if (!(await this.access.roleIn(actor, backup.serviceInstance.spaceId))) throw missing;
    if (backup.serviceInstance.offering !== target.offering) {
      throw new DomainException(ErrorCode.Unprocessable, `backup ${backup.id} is of a ${backup.serviceInstance.offering} instance (${backup.serviceInstance.name}): it restores into ${backup.serviceInstance.offering} instances only, not ${target.offering}`);
    }
    if (options.sameSpace && backup.serviceInstance.spaceId !== target.spaceId) {
      throw new DomainException(ErrorCode.Unprocessable, `backup ${backup.id} is of an instance of another space (${backup.serviceInstance.name}): a new instance restores backups of its own space only`);
    }
    if (backup.state !== 'succeeded') {
      throw new DomainException(ErrorCode.ServiceInstanceNotReady, `backup ${backup.id} is ${backup.state}: only a succeeded backup can be restored`);
    }
    return backup;
  }

  /** The backups pass: carries a restore in progress on and ends it when it is done. */
  async advance(instance: ServiceInstanceRecord, now = Date.now()): Promise<void> {
    const backupId = instance.restoreBackupId;
    if (!backupId) return this.instances.setOperation(instance.id, { type: 'restore', state: 'failed', description: 'the restore named no backup: ask for it again' });
    let step: RestoreStep;
    if (now - instance.operationUpdatedAt.getTime() > RESTORE_TIMEOUT_MS + 60_000) step = { state: 'failed', reason: `it did not finish within ${RESTORE_TIMEOUT_MS / 60_000} minutes` };
    else step = await this.step(instance, adminLoginOf(instance), backupId);
    if (step.state === 'running') return;
    const description = step.state === 'succeeded' ? `restored backup ${backupId}` : `restoring backup ${backupId} failed: ${step.reason}; the instance keeps its data as it was`;
    if (!(await this.instances.finishRestore(instance.id, backupId, { state: step.state, description }))) return;
    const event = step.state === 'succeeded' ? 'service-instance-restore-succeeded' : 'service-instance-restore-failed';
    await this.events.record(SYSTEM_ACTOR, event, serviceTarget(instance), { backup_id: backupId, ...(step.state === 'failed' ? { reason: step.reason } : {}) });
    this.logger.info({ instance: instance.name, backup: backupId, state: step.state }, 'service-instance-restore-finished');
  }

  /**
   * One look at the restore of `backupId` into the instance, whose server answers as `login`:
   * starts it when it is not under way (postgres: here, in the background; redis: the cell's
   * job, queued again when its queue lost it), else says how it stands. Call it again until it
   * is no longer running.
   */
  async step(instance: ServiceInstanceRecord, login: ServerLogin, backupId: string): Promise<RestoreStep> {
    const backup = await this.backups.find(backupId);
    if (!backup || backup.state !== 'succeeded') return { state: 'failed', reason: `backup ${backupId} is gone` };
    if (kindOf(instance) === 'redis') return this.stepRedis(instance, backup);
    const key = `${instance.id}:${backupId}`;
    const run = this.runs.get(key);
    if (run?.outcome) {
      this.runs.delete(key);
      return run.outcome;
    }
    if (!run) {
      const entry: { outcome?: RestoreStep } = {};
      this.runs.set(key, entry);
      void this.restorePostgres(instance, login, backup).then(
        () => (entry.outcome = { state: 'succeeded' }),
        (error: Error) => (entry.outcome = { state: 'failed', reason: error.message }),
      );
    }
    return { state: 'running', description: `pg_restore of backup ${backupId} is running` };
  }

  private async stepRedis(instance: ServiceInstanceRecord, backup: ServiceBackupRecord): Promise<RestoreStep> {
    if (!instance.cellId) return { state: 'failed', reason: 'it has no cell' };
    const job = await this.queues.jobState(instance.cellId, serviceJobId.restore(instance.id, backup.id));
    if (job.state === 'completed') return { state: 'succeeded' };
    if (job.state === 'failed') return { state: 'failed', reason: `cell ${instance.cellId} could not restore it: ${job.reason}` };
    if (job.state === 'absent') await this.queues.restoreService(instance.cellId, this.restoreJob(instance, backup));
    return { state: 'running', description: `cell ${instance.cellId} is restoring backup ${backup.id}` };
  }

  private restoreJob(instance: ServiceInstanceRecord, backup: ServiceBackupRecord): RestoreServiceJob {
    return {
      serviceInstanceId: instance.id,
      backupId: backup.id,
      backupUrl: this.blobs.url('backups', backup.id),
      sha256: backup.sha256 ?? '',
      sizeBytes: Number(backup.sizeBytes ?? 0),
    };
  }

  /** Checks the dump against its size and sha256, ends the database's sessions, then pg_restore in one transaction. */
  private async restorePostgres(instance: ServiceInstanceRecord, login: ServerLogin, backup: ServiceBackupRecord): Promise<void> {
    const blob = await this.blobs.open('backups', backup.id);
    if (!blob) throw new Error(`the content of backup ${backup.id} is missing from the blobstore`);
    const meter = new MeterStream(Number(backup.sizeBytes ?? 0), `backup ${backup.id}`);
    await pipeline(blob.stream, meter, new Writable({ write: (_chunk, _encoding, done) => done() }));
    if (meter.bytes !== Number(backup.sizeBytes) || meter.sha256() !== backup.sha256) throw new Error(`the content of backup ${backup.id} does not match its size and sha256: it is damaged`);
    await terminateDatabaseSessions(login, instance.id);
    await runChild(pgRestoreRun(login, instance.id, this.blobs.path('backups', backup.id), RESTORE_TIMEOUT_MS));
  }
}
