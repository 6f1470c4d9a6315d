import { Inject, Injectable } from '@nestjs/common';
import type { ServiceInstanceView } from '@paas/contracts';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { DomainException, ErrorCode } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { EventsService } from '../../audit/events.service';
import { ServiceCellsService } from '../service-cells.service';
import { ServiceKeysRepository } from '../service-keys.repository';
import { ServiceInstancesRepository, type ServiceInstanceRecord } from '../service-instances.repository';
import { ServiceInstancesService, serviceTarget } from '../service-instances.service';
import { serviceInstanceView } from '../service-views';
import { BrokeredInstancesService } from '../brokers/brokered-instances.service';

/**
 * One write: `DELETE /v1/service_instances/:instance`. Refused (409) while apps are bound to it
 * or it has service keys (as Cloud Foundry does).
 * Otherwise its cell is told to delete the server and its volume (delete-service) and the
 * instance shows `delete in progress` until the provisioning pass sees the job done and the
 * report gone, then its record goes. An instance that never reached a cell goes at once; one whose
 * cell is lost goes at once too (its volume stays on that cell, which takes the delete job if it
 * comes back). Asking again while the delete runs answers the same.
 */
@Injectable()
export class DeleteServiceInstance {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly instances: ServiceInstancesRepository,
    private readonly service: ServiceInstancesService,
    private readonly cells: ServiceCellsService,
    private readonly events: EventsService,
    private readonly keys: ServiceKeysRepository,
    private readonly brokered: BrokeredInstancesService,
  ) {}

  async run(actor: Actor, idOrName: string, spaceId?: string): Promise<ServiceInstanceView> {
    const instance = await this.service.resolve(actor, idOrName, 'write', spaceId);
    if (instance.bindings.length) {
      const apps = instance.bindings.map((b) => b.app.name);
      throw new DomainException(
        ErrorCode.ServiceInstanceInUse,
        `service instance ${instance.name} is bound to ${apps.join(', ')}: unbind it first (DELETE /v1/apps/${apps[0]}/service_bindings/${instance.name})`,
      );
    }
    const keys = (await this.keys.list(instance.id)).map((k) => k.name);
    if (keys.length) {
      throw new DomainException(
        ErrorCode.ServiceInstanceInUse,
        `service instance ${instance.name} has service keys ${keys.join(', ')}: delete its service keys first: paas delete-service-key ${instance.name} ${keys[0]}`,
      );
    }
    if (instance.operationType === 'delete' && instance.operationState === 'in progress') return this.service.view(instance);
    if (instance.type === 'user-provided') return this.removeNow(actor, instance, 'a user-provided instance: nothing runs anywhere');
    if (instance.type === 'brokered') return this.brokered.deprovision(actor, instance);
    const target = serviceTarget(instance);
    const cellId = instance.cellId;
    if (cellId === null) return this.removeNow(actor, instance, 'it never reached a cell');
    if (!(await this.cells.liveCellIds()).has(cellId)) {
      // Queued for good measure: a cell that comes back under its id deletes the volume then.
      await this.cells.delete({ ...instance, cellId });
      return this.removeNow(actor, instance, `cell ${cellId} is lost: the record is removed; its volume stays on that cell`);
    }
    const description = `cell ${cellId} is deleting the server and its volume`;
    await this.instances.setOperation(instance.id, { type: 'delete', state: 'in progress', description });
    await this.cells.delete({ ...instance, cellId });
    await this.events.record(actor, 'service-instance-delete-requested', target, { cell_id: cellId });
    this.logger.info({ instance: instance.name, cell: cellId }, 'service-instance-delete-requested');
    return this.service.viewOf(instance.id);
  }

  private async removeNow(actor: Actor, instance: ServiceInstanceRecord, why: string): Promise<ServiceInstanceView> {
    if (!(await this.instances.delete(instance.id))) return this.service.viewOf(instance.id);
    await this.events.record(actor, 'service-instance-deleted', serviceTarget(instance), { reason: why });
    const now = new Date();
    return serviceInstanceView(
      { ...instance, operationType: 'delete', operationState: 'succeeded', operationDescription: why, operationUpdatedAt: now, updatedAt: now },
      { status: null, status_reason: null },
    );
  }
}
