import { Injectable } from '@nestjs/common';
import { serviceKindSchema, type ServiceKind } from '@paas/contracts';
import { bindingCredentials, bindingUsername, randomPassword } from './credentials';
import { createPostgresLogin, dropPostgresLogin, preparePostgres, type ServerLogin } from './postgres-admin';
import { createRedisLogin, dropRedisLogin, prepareRedis } from './redis-admin';
import type { ServiceInstance } from '../generated/prisma/client';

/** A binding's login on its instance's server and what the app is given of it. */
export interface BindingLogin {
  username: string;
  password: string;
  credentials: Record<string, string | number>;
}

type Endpoint = { host: string; port: number };

/**
 * The controller's side effects on service instances' servers, over the network as each server's
 * admin (postgres-admin.ts, redis-admin.ts): preparing a new one, creating and dropping bindings'
 * logins. Throws what the server or the connection said.
 */
@Injectable()
export class ServiceAdminService {
  /** Prepares a new instance reachable at `endpoint` (its cell's report). Safe to repeat. */
  async prepare(instance: ServiceInstance, endpoint: Endpoint): Promise<void> {
    const login = adminLogin(instance, endpoint);
    if (kindOf(instance) === 'postgresql') await preparePostgres(login, instance.id);
    else await prepareRedis(login);
  }

  /** A new login for binding `bindingId` on the instance's server. */
  async createLogin(instance: ServiceInstance, bindingId: string): Promise<BindingLogin> {
    const endpoint = endpointOf(instance);
    const username = bindingUsername(bindingId);
    const password = randomPassword();
    const login = adminLogin(instance, endpoint);
    if (kindOf(instance) === 'postgresql') await createPostgresLogin(login, instance.id, username, password);
    else await createRedisLogin(login, username, password);
    return { username, password, credentials: bindingCredentials(kindOf(instance), instance.id, endpoint, { username, password }) };
  }

  /** Drops a binding's login at once, ending its sessions. Safe to repeat; a binding without a login (not managed) has nothing to drop. */
  async dropLogin(instance: ServiceInstance, username: string | null): Promise<void> {
    if (username === null) return;
    const login = adminLogin(instance, endpointOf(instance));
    if (kindOf(instance) === 'postgresql') await dropPostgresLogin(login, instance.id, username);
    else await dropRedisLogin(login, username);
  }
}

export function kindOf(instance: Pick<ServiceInstance, 'offering'>): ServiceKind {
  return serviceKindSchema.parse(instance.offering);
}

/** Where the instance's server was last reported (set when its create succeeded). */
export function endpointOf(instance: Pick<ServiceInstance, 'id' | 'host' | 'port'>): Endpoint {
  if (!instance.host || !instance.port) throw new Error(`service instance ${instance.id} has no endpoint yet`);
  return { host: instance.host, port: instance.port };
}

/** The admin's login on the instance's server, where it was last reported (or at `endpoint`). */
export function adminLoginOf(instance: ServiceInstance, endpoint: Endpoint = endpointOf(instance)): ServerLogin {
  return adminLogin(instance, endpoint);
}

function adminLogin(instance: ServiceInstance, endpoint: Endpoint): ServerLogin {
  return { ...endpoint, user: instance.adminUser, password: instance.adminPassword };
}
