import { Inject, Injectable } from '@nestjs/common';
import type { ServiceState } from '@paas/contracts';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { EventsService, SYSTEM_ACTOR } from '../audit/events.service';
import { offeringNamed, planNamed } from './offerings';
import { ServiceCellsService } from './service-cells.service';
import { ServiceInstancesRepository, type ServiceInstanceRecord } from './service-instances.repository';
import { serviceTarget } from './service-instances.service';
import { ServiceUpdatesRepository } from './service-updates.repository';

/** How long a live cell may take to run a resize (grow the volume, restart the server) before the update fails. */
export const SERVICE_UPDATE_TIMEOUT_MS = 10 * 60_000;

/**
 * The provisioning pass's step for a resize in progress (`update in progress`, the plan asked for
 * in `updatePlan`): `succeeded` once the cell's report carries the new plan's memoryMb and diskMb
 * and the server runs (the record then takes the new plan); `failed` with the update-service job's
 * reason, or after SERVICE_UPDATE_TIMEOUT_MS while the cell is live (the old plan stays in force,
 * as on Cloud Foundry). A lost cell's update waits for the cell: its data, and the job, are there.
 * A job Redis lost is queued again (the cell's registry makes a repeat harmless). Safe to run on
 * two replicas at once (each outcome is conditional on the operation, see ServiceUpdatesRepository).
 */
@Injectable()
export class ServiceUpdatesService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly instances: ServiceInstancesRepository,
    private readonly updates: ServiceUpdatesRepository,
    private readonly cells: ServiceCellsService,
    private readonly events: EventsService,
  ) {}

  async finish(instance: ServiceInstanceRecord, report: ServiceState | undefined, live: Set<string>, now: number): Promise<void> {
    const planName = instance.updatePlan;
    if (!planName || !instance.cellId) return this.fail(instance, planName, 'the controller has no record of the plan asked for: update it again');
    const plan = planNamed(offeringNamed(instance.offering), planName);
    const placed = { ...instance, cellId: instance.cellId };
    if (report && report.state === 'running' && report.memoryMb === plan.memoryMb && report.diskMb === plan.diskMb) {
      if (await this.updates.finishResize(instance.id, plan.name, { state: 'succeeded', memoryMb: plan.memoryMb, diskMb: plan.diskMb })) {
        await this.events.record(SYSTEM_ACTOR, 'service-instance-update-succeeded', serviceTarget(instance), { from_plan: instance.plan, to_plan: plan.name, cell_id: placed.cellId });
        this.logger.info({ instance: instance.name, plan: plan.name }, 'service-instance-update-succeeded');
      }
      return;
    }
    if (!live.has(placed.cellId)) {
      return this.instances.describe(instance.id, `cell ${placed.cellId} is lost: the resize to plan ${plan.name} waits for it to come back (the data is on its volume)`);
    }
    const job = await this.cells.updateJob(placed);
    if (job.state === 'failed') return this.fail(instance, plan.name, `cell ${placed.cellId} could not resize it: ${job.reason}`);
    if (job.state === 'absent') await this.cells.update(placed, { memoryMb: plan.memoryMb, diskMb: plan.diskMb }, instance.operationUpdatedAt.getTime());
    if (now - instance.operationUpdatedAt.getTime() > SERVICE_UPDATE_TIMEOUT_MS) {
      const seen = report ? `it reports the server ${report.state} with ${report.memoryMb ?? '?'} MB memory, ${report.diskMb ?? '?'} MB disk` : 'it has not reported the server lately';
      return this.fail(instance, plan.name, `cell ${placed.cellId} did not run the server with plan ${plan.name}'s sizes within ${SERVICE_UPDATE_TIMEOUT_MS / 60_000} minutes (${seen})`);
    }
  }

  private async fail(instance: ServiceInstanceRecord, planName: string | null, why: string): Promise<void> {
    const description = `${why}; plan ${instance.plan} stays in force`;
    if (await this.updates.finishResize(instance.id, planName, { state: 'failed', description })) {
      await this.events.record(SYSTEM_ACTOR, 'service-instance-update-failed', serviceTarget(instance), { to_plan: planName, reason: description });
      this.logger.warn({ instance: instance.name, plan: planName, reason: description }, 'service-instance-update-failed');
    }
  }
}
