import { Injectable } from '@nestjs/common';
import type { ServiceInstanceView } from '@paas/contracts';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import { isUuid, narrowVisible } from '../platform/common/query-params';
import type { Actor } from '../auth/actor';
import { AccessService, type SpaceAction } from '../auth/access.service';
import { EventsService } from '../audit/events.service';
import { ServiceCellsService } from './service-cells.service';
import { ServiceInstancesRepository, type ServiceInstanceRecord } from './service-instances.repository';
import { serviceInstanceView, serviceStatus, serviceUsage } from './service-views';

const LIST_HINT = 'list the service instances you can see with GET /v1/service_instances';

/**
 * A service instance as its callers find it: resolved by id or name with the caller's access
 * checked (404 when the caller cannot see it, as for apps), listed, viewed with its status,
 * renamed. Creating and deleting one are use cases of their own (usecases/).
 */
@Injectable()
export class ServiceInstancesService {
  constructor(
    private readonly instances: ServiceInstancesRepository,
    private readonly cells: ServiceCellsService,
    private readonly access: AccessService,
    private readonly events: EventsService,
  ) {}

  /**
   * The instance `idOrName` (a name within `spaceId` when given), if the actor may do `action` on
   * it. A name found in several spaces the actor sees is a 409 naming them.
   */
  async resolve(actor: Actor, idOrName: string, action: SpaceAction, spaceId?: string): Promise<ServiceInstanceRecord> {
    const visible = await this.access.visibleSpaceIds(actor);
    const spaces = narrowVisible(visible, spaceId ? [spaceId] : undefined);
    let found: ServiceInstanceRecord | undefined;
    if (isUuid(idOrName)) {
      const byId = await this.instances.find(idOrName);
      if (byId && (!spaces || spaces.includes(byId.spaceId))) found = byId;
    }
    if (!found) {
      const named = await this.instances.named(idOrName, spaces);
      if (named.length > 1) {
        const where = named.map((i) => `${i.space.org.name}/${i.space.name} (space_id ${i.spaceId})`).join(', ');
        throw new DomainException(ErrorCode.AmbiguousName, `several service instances are named ${idOrName}: in ${where}; add ?space_id=ID to say which`);
      }
      found = named[0];
    }
    if (!found) throw notFound('service instance', idOrName, LIST_HINT);
    await this.access.require(actor, found.spaceId, action, 'service instance', idOrName);
    return found;
  }

  async list(actor: Actor, filter: { spaceId?: string; names?: string[] }): Promise<ServiceInstanceView[]> {
    const spaceIds = narrowVisible(await this.access.visibleSpaceIds(actor), filter.spaceId ? [filter.spaceId] : undefined);
    return this.views(await this.instances.list({ spaceIds, names: filter.names }));
  }

  /** Views with each instance's status from its cell's report (fails fast, 503, while Redis is out of reach). */
  async views(records: ServiceInstanceRecord[]): Promise<ServiceInstanceView[]> {
    if (!records.length) return [];
    const [reports, live] = await Promise.all([this.cells.reports(records.map((r) => r.id), { fast: true }), this.cells.liveCellIds({ fast: true })]);
    return records.map((r) => {
      const cellLive = r.cellId !== null && live.has(r.cellId);
      return serviceInstanceView(r, serviceStatus(r, reports.get(r.id), cellLive), cellLive ? serviceUsage(r, reports.get(r.id)) : null);
    });
  }

  async view(record: ServiceInstanceRecord): Promise<ServiceInstanceView> {
    return (await this.views([record]))[0]!;
  }

  /** The instance as recorded now, viewed. */
  async viewOf(id: string): Promise<ServiceInstanceView> {
    const record = await this.instances.find(id);
    if (!record) throw notFound('service instance', id, LIST_HINT);
    return this.view(record);
  }

  async rename(actor: Actor, idOrName: string, name: string, spaceId?: string): Promise<ServiceInstanceView> {
    const instance = await this.resolve(actor, idOrName, 'write', spaceId);
    if (name === instance.name) return this.view(instance);
    if (!(await this.instances.rename(instance.id, name))) {
      throw new DomainException(ErrorCode.NameTaken, `space ${instance.space.name} has a service instance named ${name} already: choose another name`);
    }
    await this.events.record(actor, 'service-instance-renamed', serviceTarget({ ...instance, name }), { from: instance.name, to: name });
    return this.viewOf(instance.id);
  }
}

/** The audit target of an instance. */
export function serviceTarget(instance: { id: string; name: string; spaceId: string }) {
  return { type: 'service_instance', id: instance.id, name: instance.name, spaceId: instance.spaceId };
}
