import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ServiceInstanceView } from '@paas/contracts';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { DomainException, ErrorCode, notFound } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { AccessService } from '../../auth/access.service';
import { EventsService } from '../../audit/events.service';
import { AppsRepository } from '../../apps/apps.repository';
import { ADMIN_USER, randomPassword } from '../credentials';
import { offeringNamed, planNamed } from '../offerings';
import { ServiceCellsService } from '../service-cells.service';
import { ServiceInstancesRepository } from '../service-instances.repository';
import { ServiceInstancesService, serviceTarget } from '../service-instances.service';
import { ServiceRestoresService } from '../service-restores.service';

/**
 * One write: `POST /v1/service_instances`. Places the instance on a live cell with room for its
 * plan's memory, records it (`create in progress`) and queues its start-service job on that cell;
 * the provisioning pass (service-provisioning.service.ts) finishes the create once the cell
 * reports the server running. Answers at once (202).
 */
@Injectable()
export class CreateServiceInstance {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly instances: ServiceInstancesRepository,
    private readonly service: ServiceInstancesService,
    private readonly cells: ServiceCellsService,
    private readonly apps: AppsRepository,
    private readonly access: AccessService,
    private readonly events: EventsService,
    private readonly restores: ServiceRestoresService,
  ) {}

  async run(actor: Actor, input: { name: string; offering: string; plan: string; space_id?: string; restore_from_backup?: string }): Promise<ServiceInstanceView> {
    const spaceId = input.space_id ?? (await this.apps.defaultSpaceId());
    if (input.space_id && !(await this.apps.spaceExists(input.space_id))) throw notFound('space', input.space_id);
    await this.access.require(actor, spaceId, 'write', 'space', input.space_id ?? 'default');
    const offering = offeringNamed(input.offering);
    const plan = planNamed(offering, input.plan);
    const backup = input.restore_from_backup ? await this.restores.backupFor(actor, { offering: offering.name, spaceId }, input.restore_from_backup, { sameSpace: true }) : undefined;
    const id = randomUUID();
    const cellId = await this.cells.place(id, plan.memoryMb);
    const created = await this.instances.create({
      id,
      spaceId,
      name: input.name,
      offering: offering.name,
      plan: plan.name,
      memoryMb: plan.memoryMb,
      diskMb: plan.diskMb,
      cellId,
      adminUser: ADMIN_USER,
      adminPassword: randomPassword(),
      description: `cell ${cellId} is starting the ${offering.name} server${backup ? `, then restoring backup ${backup.id}` : ''}`,
      restoreBackupId: backup?.id,
    });
    if (!created) throw new DomainException(ErrorCode.NameTaken, `this space has a service instance named ${input.name} already: choose another name`);
    await this.cells.start({ ...created, cellId });
    await this.events.record(actor, 'service-instance-created', serviceTarget(created), { offering: offering.name, plan: plan.name, cell_id: cellId, ...(backup ? { restore_from_backup: backup.id } : {}) });
    this.logger.info({ instance: created.name, offering: offering.name, cell: cellId }, 'service-instance-created');
    return this.service.view(created);
  }
}
