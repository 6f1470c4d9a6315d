import { Inject, Injectable } from '@nestjs/common';
import type { ServiceInstanceView } from '@paas/contracts';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { DomainException, ErrorCode } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { EventsService } from '../../audit/events.service';
import type { ServiceInstanceRecord } from '../service-instances.repository';
import { ServiceInstancesService, serviceTarget } from '../service-instances.service';
import { UserProvidedInstancesRepository } from './user-provided-instances.repository';
import { checkCredentials, type CreateUserProvidedRequest, type UpdateUserProvidedRequest } from './user-provided.schemas';

/**
 * User-provided service instances (Cloud Foundry's `cf cups`): credentials and tags a user gives,
 * stored on the instance and passed to bound apps as they are when each job is built. No cell,
 * no server, nothing to prepare: created at once (`create succeeded`). An update replaces
 * credentials and/or tags (`update succeeded`); bound apps get them when their instances next
 * start (no release is rolled: `paas restart APP`, as on Cloud Foundry). Events never carry the
 * credentials, only their names.
 */
@Injectable()
export class UserProvidedInstancesService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly records: UserProvidedInstancesRepository,
    private readonly service: ServiceInstancesService,
    private readonly events: EventsService,
  ) {}

  async create(actor: Actor, spaceId: string, input: CreateUserProvidedRequest): Promise<ServiceInstanceView> {
    const credentials = checkCredentials(input.credentials);
    const created = await this.records.create({ spaceId, name: input.name, credentials, tags: input.tags ?? [] });
    if (!created) throw new DomainException(ErrorCode.NameTaken, `this space has a service instance named ${input.name} already: choose another name`);
    await this.events.record(actor, 'service-instance-created', serviceTarget(created), { type: 'user-provided', credentials: Object.keys(credentials), tags: created.tags });
    this.logger.info({ instance: created.name }, 'user-provided-instance-created');
    return this.service.viewOf(created.id);
  }

  /** PATCH of a user-provided instance; 422 for any other type. */
  async update(actor: Actor, instance: ServiceInstanceRecord, input: UpdateUserProvidedRequest): Promise<ServiceInstanceView> {
    if (instance.type !== 'user-provided') {
      throw new DomainException(ErrorCode.Unprocessable, `service instance ${instance.name} is ${instance.type === 'brokered' ? 'a brokered' : 'a managed'} one: only user-provided instances take credentials and tags`);
    }
    const credentials = input.credentials ? checkCredentials(input.credentials) : undefined;
    if (!(await this.records.update(instance.id, { name: input.name, credentials, tags: input.tags }))) {
      throw new DomainException(ErrorCode.NameTaken, `space ${instance.space.name} has a service instance named ${input.name} already: choose another name`);
    }
    const data = {
      ...(input.name !== undefined && input.name !== instance.name ? { from: instance.name, to: input.name } : {}),
      ...(credentials ? { credentials: Object.keys(credentials) } : {}),
      ...(input.tags ? { tags: input.tags } : {}),
    };
    await this.events.record(actor, 'service-instance-updated', serviceTarget({ ...instance, name: input.name ?? instance.name }), data);
    return this.service.viewOf(instance.id);
  }
}
