import { z } from 'zod';
import { serviceBrokerViewSchema, serviceInstanceViewSchema, type ServiceBrokerView, type ServiceInstanceView } from '@paas/contracts';
import { ApiTransport, query, seg } from './api-transport';

const resourcesOf = <S extends z.ZodType>(item: S) => z.object({ resources: z.array(item) });

/** What a user-provided instance carries: credentials (string or number values) and tags. */
export interface UserProvidedInstanceRequest {
  name: string;
  credentials: Record<string, string | number>;
  tags?: string[];
  space_id?: string;
}

/** Registering a broker: its base URL and the basic-auth login the controller uses. */
export interface ServiceBrokerRequest {
  name: string;
  url: string;
  username: string;
  password: string;
}

/**
 * User-provided service instances and service brokers (docs/services.md): a layer of ApiClient
 * (through ServicesClient, which extends it). Brokers are for platform admins only (403 otherwise);
 * their password is sent, never read back.
 */
export class BrokersClient extends ApiTransport {
  /** POST /v1/service_instances with type user-provided: created at once (create succeeded). */
  createUserProvidedServiceInstance(instance: UserProvidedInstanceRequest): Promise<ServiceInstanceView> {
    return this.call(serviceInstanceViewSchema, 'POST', '/v1/service_instances', { type: 'user-provided', ...instance });
  }

  /** PATCH of a user-provided instance: credentials replaced whole, and/or tags. */
  updateUserProvidedServiceInstance(idOrName: string, change: { credentials?: Record<string, string | number>; tags?: string[] }, spaceId?: string): Promise<ServiceInstanceView> {
    return this.call(serviceInstanceViewSchema, 'PATCH', `/v1/service_instances/${seg(idOrName)}${query({ space_id: spaceId })}`, change);
  }

  async serviceBrokers(): Promise<ServiceBrokerView[]> {
    return (await this.call(resourcesOf(serviceBrokerViewSchema), 'GET', '/v1/service_brokers')).resources;
  }

  serviceBroker(idOrName: string): Promise<ServiceBrokerView> {
    return this.call(serviceBrokerViewSchema, 'GET', `/v1/service_brokers/${seg(idOrName)}`);
  }

  createServiceBroker(broker: ServiceBrokerRequest): Promise<ServiceBrokerView> {
    return this.call(serviceBrokerViewSchema, 'POST', '/v1/service_brokers', broker);
  }

  /** Any of name, url, username, password; the controller fetches the catalog again. */
  updateServiceBroker(idOrName: string, change: Partial<ServiceBrokerRequest>): Promise<ServiceBrokerView> {
    return this.call(serviceBrokerViewSchema, 'PATCH', `/v1/service_brokers/${seg(idOrName)}`, change);
  }

  async deleteServiceBroker(idOrName: string): Promise<void> {
    await this.call(z.unknown(), 'DELETE', `/v1/service_brokers/${seg(idOrName)}`);
  }
}
