import { z } from 'zod';
import {
  changeResultSchema,
  serviceBindingViewSchema,
  serviceInstanceViewSchema,
  serviceOfferingViewSchema,
  type ChangeResult,
  type ServiceBindingView,
  type ServiceInstanceView,
  type ServiceOfferingView,
} from '@paas/contracts';
import { query, seg } from './api-transport';
import { ServiceBackupsClient } from './service-backups-client';

/** POST /v1/apps/:app/service_bindings: the binding, and the release it rolls out. */
export const serviceBindingResultSchema = changeResultSchema.extend({ binding: serviceBindingViewSchema });
export type ServiceBindingResult = z.infer<typeof serviceBindingResultSchema>;

const resourcesOf = <S extends z.ZodType>(item: S) => z.object({ resources: z.array(item) });

/**
 * The backing-services part of the API (issue 15): the marketplace, service instances and their
 * bindings to apps. A layer of ApiClient (which extends it), kept apart so each file stays one
 * concern; use it through ApiClient. Instances are named by id or name (`space_id` picks the
 * space when a name is in several). Creating and deleting an instance are asynchronous: the
 * answer is a 202 whose `last_operation` is `in progress`; poll `serviceInstance` to see it end.
 */
export class ServicesClient extends ServiceBackupsClient {
  async serviceOfferings(): Promise<ServiceOfferingView[]> {
    return (await this.call(resourcesOf(serviceOfferingViewSchema), 'GET', '/v1/service_offerings')).resources;
  }

  /** The instances you may see (of one space with `spaceId`). */
  async serviceInstances(filter: { spaceId?: string; names?: string[] } = {}): Promise<ServiceInstanceView[]> {
    const path = `/v1/service_instances${query({ space_id: filter.spaceId, names: filter.names })}`;
    return (await this.call(resourcesOf(serviceInstanceViewSchema), 'GET', path)).resources;
  }

  /** By id or name; a name in several spaces you see is a 409 unless `spaceId` says which. */
  serviceInstance(idOrName: string, spaceId?: string): Promise<ServiceInstanceView> {
    return this.call(serviceInstanceViewSchema, 'GET', `/v1/service_instances/${seg(idOrName)}${query({ space_id: spaceId })}`);
  }

  /** Starts creating it (202, last_operation create/in progress). Not safe to repeat: a second call is a 409 (the name is taken). */
  createServiceInstance(instance: { name: string; offering: string; plan: string; space_id?: string; restore_from_backup?: string }): Promise<ServiceInstanceView> {
    return this.call(serviceInstanceViewSchema, 'POST', '/v1/service_instances', instance);
  }

  renameServiceInstance(idOrName: string, name: string): Promise<ServiceInstanceView> {
    return this.call(serviceInstanceViewSchema, 'PATCH', `/v1/service_instances/${seg(idOrName)}`, { name });
  }

  /** Starts deleting it (202, last_operation delete/in progress; it disappears when done); a 409 while apps are bound. */
  deleteServiceInstance(idOrName: string): Promise<ServiceInstanceView> {
    return this.call(serviceInstanceViewSchema, 'DELETE', `/v1/service_instances/${seg(idOrName)}`);
  }

  async serviceBindings(app: string): Promise<ServiceBindingView[]> {
    return (await this.call(resourcesOf(serviceBindingViewSchema), 'GET', `/v1/apps/${seg(app)}/service_bindings`)).resources;
  }

  /** Binds the instance (id or name) to the app and rolls out a release with it; a 409 when already bound. */
  bindService(app: string, instance: string): Promise<ServiceBindingResult> {
    return this.call(serviceBindingResultSchema, 'POST', `/v1/apps/${seg(app)}/service_bindings`, { service_instance: instance });
  }

  /** Drops the binding's credentials at once and rolls out a release without it. */
  unbindService(app: string, instance: string): Promise<ChangeResult> {
    return this.call(changeResultSchema, 'DELETE', `/v1/apps/${seg(app)}/service_bindings/${seg(instance)}`);
  }
}
