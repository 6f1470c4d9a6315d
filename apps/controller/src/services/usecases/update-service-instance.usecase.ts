import { Inject, Injectable } from '@nestjs/common';
import type { ServiceInstanceView } from '@paas/contracts';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { DomainException, ErrorCode } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { EventsService } from '../../audit/events.service';
import { offeringNamed, planNamed } from '../offerings';
import { ServiceCellsService } from '../service-cells.service';
import type { ServiceInstanceRecord } from '../service-instances.repository';
import { ServiceInstancesService, serviceTarget } from '../service-instances.service';
import { isCreated, operationPhrase } from '../service-lifecycle';
import { ServiceUpdatesRepository } from '../service-updates.repository';

export interface UpdateServiceInstanceInput {
  name?: string;
  plan?: string;
  backup_retention?: number;
}

/** What a PATCH did: `accepted` (202) when it started a resize, which the provisioning pass finishes. */
export interface UpdateServiceInstanceResult {
  view: ServiceInstanceView;
  accepted: boolean;
}

/**
 * One write: `PATCH /v1/service_instances/:instance` with `name`, `plan`, `backup_retention`.
 * Everything is checked before anything changes. A resize (another plan of the same offering)
 * never shrinks the disk, waits for no operation in progress and an available server, and books
 * the memory it adds on the instance's own cell (where its data is). It then records `update in
 * progress` (the old plan still in force) and queues update-service on that cell; the provisioning
 * pass (service-updates.service.ts) ends it. The plan in force again changes nothing.
 */
@Injectable()
export class UpdateServiceInstance {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly service: ServiceInstancesService,
    private readonly updates: ServiceUpdatesRepository,
    private readonly cells: ServiceCellsService,
    private readonly events: EventsService,
  ) {}

  async run(actor: Actor, idOrName: string, input: UpdateServiceInstanceInput, spaceId?: string): Promise<UpdateServiceInstanceResult> {
    const instance = await this.service.resolve(actor, idOrName, 'write', spaceId);
    if ((input.plan !== undefined || input.backup_retention !== undefined) && instance.type !== 'managed') {
      const what = input.plan !== undefined ? 'plan' : 'backup_retention';
      throw new DomainException(ErrorCode.Unprocessable, `${what} applies to managed instances only, and ${instance.name} is ${instance.type}`);
    }
    const resize = input.plan !== undefined && input.plan !== instance.plan ? await this.checkResize(instance, input.plan) : undefined;
    if (input.name !== undefined && input.name !== instance.name) await this.service.rename(actor, instance.id, input.name);
    if (input.backup_retention !== undefined && input.backup_retention !== instance.backupRetention) {
      await this.updates.setBackupRetention(instance.id, input.backup_retention);
      await this.events.record(actor, 'service-instance-backup-retention-changed', serviceTarget(instance), { from: instance.backupRetention, to: input.backup_retention });
    }
    if (!resize) return { view: await this.service.viewOf(instance.id), accepted: false };
    const at = new Date();
    const description = `cell ${resize.cellId} is resizing it from plan ${instance.plan} to ${resize.plan.name} (${instance.memoryMb} MB memory, ${instance.diskMb} MB disk → ${resize.plan.memoryMb} MB, ${resize.plan.diskMb} MB)`;
    if (!(await this.updates.startResize(instance.id, { plan: resize.plan.name, description, at }))) {
      throw new DomainException(ErrorCode.ServiceInstanceNotReady, `service instance ${instance.name} cannot be resized now: another operation started meanwhile; see GET /v1/service_instances/${instance.name}`);
    }
    await this.cells.update({ ...instance, cellId: resize.cellId }, { memoryMb: resize.plan.memoryMb, diskMb: resize.plan.diskMb }, at.getTime());
    await this.events.record(actor, 'service-instance-update-requested', serviceTarget(instance), { from_plan: instance.plan, to_plan: resize.plan.name, cell_id: resize.cellId });
    this.logger.info({ instance: instance.name, from: instance.plan, to: resize.plan.name, cell: resize.cellId }, 'service-instance-update-requested');
    return { view: await this.service.viewOf(instance.id), accepted: true };
  }

  /** The plan to resize to and the cell, once every rule holds; the memory it adds booked on that cell. */
  private async checkResize(instance: ServiceInstanceRecord, planName: string) {
    const plan = planNamed(offeringNamed(instance.offering), planName);
    if (plan.diskMb < instance.diskMb) {
      throw new DomainException(
        ErrorCode.Unprocessable,
        `a plan change cannot shrink the disk (${instance.diskMb} MB → ${plan.diskMb} MB): create a new instance from a backup instead`,
      );
    }
    const notNow = (why: string) => new DomainException(ErrorCode.ServiceInstanceNotReady, `service instance ${instance.name} cannot be resized now: ${why}`);
    if (instance.operationState === 'in progress') throw notNow(`${operationPhrase(instance)}; wait until it ends (GET /v1/service_instances/${instance.name})`);
    if (!isCreated(instance) || !instance.cellId) throw notNow(`${operationPhrase(instance)}; delete it and create it again`);
    const view = await this.service.view(instance);
    if (view.status !== 'available') {
      throw notNow(`it is ${view.status}${view.status_reason ? ` (${view.status_reason})` : ''}; resize it once it is available again`);
    }
    const added = plan.memoryMb - instance.memoryMb;
    if (added > 0) await this.cells.grow({ id: instance.id, name: instance.name, cellId: instance.cellId }, added, plan.name);
    return { plan, cellId: instance.cellId };
  }
}
