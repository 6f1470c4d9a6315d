import { Inject, Injectable } from '@nestjs/common';
import type { ServiceState } from '@paas/contracts';
import { SERVICE_STATE_TTL_S } from '@paas/redis';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { EventsService, SYSTEM_ACTOR } from '../audit/events.service';
import { adminLoginOf, ServiceAdminService } from './service-admin.service';
import { RESTORE_TIMEOUT_MS, ServiceRestoresService } from './service-restores.service';
import { ServiceCellsService } from './service-cells.service';
import { ServiceInstancesRepository, type ServiceInstanceRecord } from './service-instances.repository';
import { serviceTarget } from './service-instances.service';

/** How long a create may wait for its cell to run and the controller to prepare the server. */
export const SERVICE_CREATE_TIMEOUT_MS = 180_000;
/** A created instance its live cell has not reported for this long is started again (its Redis lost the job). */
const UNREPORTED_RESTART_MS = 2 * SERVICE_STATE_TTL_S * 1000;

type Placed = ServiceInstanceRecord & { cellId: string };

/**
 * The provisioning pass (run on the convergence leader every 2 s, see convergence/): finishes
 * what the API started and keeps created instances started.
 * - create in progress: `succeeded` once the cell reports the server running and the controller
 *   prepared it as its admin (ServiceAdminService.prepare); `failed` with the cell's error (a
 *   failed report, a failed start-service job), when the cell is lost, or after
 *   SERVICE_CREATE_TIMEOUT_MS naming what it waited for;
 * - delete in progress: the record goes once the delete-service job completed and the cell has no
 *   report of it; `failed` with the job's reason;
 * - created: the endpoint follows the report; an instance its live cell has not reported for
 *   UNREPORTED_RESTART_MS gets its start-service job again (the cell's registry makes that a no-op
 *   when it does run it). A lost cell's instances are left alone: nothing recreates them elsewhere.
 * Safe to run on two replicas at once (each step re-checks the operation it changes).
 */
@Injectable()
export class ServiceProvisioningService {
  /** When each created instance was first seen unreported, and when its job was last queued again. */
  private readonly unreported = new Map<string, { since: number; requeuedAt?: number }>();

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly instances: ServiceInstancesRepository,
    private readonly cells: ServiceCellsService,
    private readonly admin: ServiceAdminService,
    private readonly events: EventsService,
    private readonly restores: ServiceRestoresService,
  ) {}

  async pass(now = Date.now()): Promise<void> {
    const pending = await this.instances.inProgress();
    const created = await this.instances.created();
    const all = [...pending, ...created];
    if (!all.length) return;
    const [reports, live] = await Promise.all([this.cells.reports(all.map((i) => i.id)), this.cells.liveCellIds()]);
    for (const instance of pending) {
      // Other operations (restore, update) are carried on by passes of their own.
      if (instance.operationType !== 'delete' && instance.operationType !== 'create') continue;
      const step = instance.operationType === 'delete' ? this.finishDelete(instance, reports.get(instance.id), live) : this.finishCreate(instance, reports.get(instance.id), live, now);
      await step.catch((error: Error) => this.logger.warn({ err: error, instance: instance.name }, 'service-provisioning-step-failed'));
    }
    const keep = new Set<string>();
    for (const instance of created) {
      keep.add(instance.id);
      await this.keepStarted(instance, reports.get(instance.id), live, now).catch((error: Error) =>
        this.logger.warn({ err: error, instance: instance.name }, 'service-keep-started-failed'),
      );
    }
    for (const id of this.unreported.keys()) if (!keep.has(id)) this.unreported.delete(id);
  }

  private async finishCreate(instance: ServiceInstanceRecord, report: ServiceState | undefined, live: Set<string>, now: number): Promise<void> {
    if (!instance.cellId) return this.fail(instance, 'it has no cell: delete it and create it again');
    const placed = instance as Placed;
    const late = now - instance.operationUpdatedAt.getTime() > SERVICE_CREATE_TIMEOUT_MS;
    const waited = `${SERVICE_CREATE_TIMEOUT_MS / 60_000} minutes`;
    if (!live.has(placed.cellId)) return this.fail(instance, `cell ${placed.cellId} is lost: it never ran the server; delete the instance and create it again`);
    if (!report) {
      const job = await this.cells.startJob(placed);
      if (job.state === 'failed') return this.fail(instance, `cell ${placed.cellId} could not start the server: ${job.reason}`);
      if (job.state === 'absent') await this.cells.start(placed);
      if (late) return this.fail(instance, `cell ${placed.cellId} did not report the server within ${waited}`);
      return;
    }
    if (report.state === 'failed') return this.fail(instance, `cell ${placed.cellId} cannot run the server: ${report.error ?? 'no reason given'}`);
    if (report.state !== 'running') {
      if (late) return this.fail(instance, `the server did not accept connections within ${waited} (cell ${placed.cellId} reports it ${report.state}${report.error ? `: ${report.error}` : ''})`);
      return this.instances.describe(instance.id, `cell ${placed.cellId} reports the server ${report.state}`);
    }
    const endpoint = { host: report.host, port: report.port };
    try {
      await this.admin.prepare(instance, endpoint);
    } catch (error) {
      const why = `the controller could not prepare the server at ${endpoint.host}:${endpoint.port} as its admin: ${(error as Error).message}`;
      if (late) return this.fail(instance, why);
      return this.instances.describe(instance.id, `${why} (trying again)`);
    }
    if (instance.restoreBackupId) {
      // A create from a backup succeeds once the backup is restored into the prepared server.
      const restore = await this.restores.step(instance, adminLoginOf(instance, endpoint), instance.restoreBackupId);
      if (restore.state === 'running') {
        if (now - instance.operationUpdatedAt.getTime() > RESTORE_TIMEOUT_MS + SERVICE_CREATE_TIMEOUT_MS) return this.fail(instance, `restoring backup ${instance.restoreBackupId} did not finish within ${RESTORE_TIMEOUT_MS / 60_000} minutes`);
        return this.instances.describe(instance.id, `restoring backup ${instance.restoreBackupId}: ${restore.description}`);
      }
      if (restore.state === 'failed') return this.fail(instance, `restoring backup ${instance.restoreBackupId} failed: ${restore.reason}; delete the instance and create it again`);
    }
    if (await this.instances.finishCreate(instance.id, { state: 'succeeded', description: null, endpoint })) {
      await this.events.record(SYSTEM_ACTOR, 'service-instance-create-succeeded', serviceTarget(instance), { cell_id: placed.cellId, endpoint: `${endpoint.host}:${endpoint.port}` });
      this.logger.info({ instance: instance.name, cell: placed.cellId }, 'service-instance-ready');
    }
  }

  private async fail(instance: ServiceInstanceRecord, description: string): Promise<void> {
    if (await this.instances.finishCreate(instance.id, { state: 'failed', description })) {
      await this.events.record(SYSTEM_ACTOR, 'service-instance-create-failed', serviceTarget(instance), { reason: description });
      this.logger.warn({ instance: instance.name, reason: description }, 'service-instance-create-failed');
    }
  }

  private async finishDelete(instance: ServiceInstanceRecord, report: ServiceState | undefined, live: Set<string>): Promise<void> {
    const placed = instance as Placed;
    if (instance.cellId && live.has(instance.cellId)) {
      const job = await this.cells.deleteJob(placed);
      if (job.state === 'failed') {
        await this.instances.setOperation(instance.id, { type: 'delete', state: 'failed', description: `cell ${placed.cellId} could not delete it: ${job.reason}; delete it again` });
        await this.events.record(SYSTEM_ACTOR, 'service-instance-delete-failed', serviceTarget(instance), { reason: job.reason });
        return;
      }
      if (job.state === 'absent') return this.cells.delete(placed);
      if (job.state !== 'completed' || report) return;
    }
    if (await this.instances.delete(instance.id)) {
      const reason = instance.cellId && !live.has(instance.cellId) ? `cell ${instance.cellId} is lost: its volume stays on that cell` : 'deleted by its cell';
      await this.events.record(SYSTEM_ACTOR, 'service-instance-deleted', serviceTarget(instance), { reason });
    }
  }

  private async keepStarted(instance: ServiceInstanceRecord, report: ServiceState | undefined, live: Set<string>, now: number): Promise<void> {
    if (!instance.cellId || !live.has(instance.cellId)) return;
    if (report) {
      this.unreported.delete(instance.id);
      if (report.host !== instance.host || report.port !== instance.port) await this.instances.setEndpoint(instance.id, { host: report.host, port: report.port });
      return;
    }
    const seen = this.unreported.get(instance.id) ?? { since: now };
    this.unreported.set(instance.id, seen);
    if (now - seen.since < UNREPORTED_RESTART_MS || (seen.requeuedAt !== undefined && now - seen.requeuedAt < UNREPORTED_RESTART_MS)) return;
    seen.requeuedAt = now;
    await this.cells.start(instance as Placed, { again: true });
    this.logger.warn({ instance: instance.name, cell: instance.cellId }, 'service-instance-unreported-restarted');
  }
}
