import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ServiceKeyView } from '@paas/contracts';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { EventsService } from '../audit/events.service';
import type { ServiceKey } from '../generated/prisma/client';
import { ServiceAdminService } from './service-admin.service';
import { ServiceCellsService } from './service-cells.service';
import { ServiceKeysRepository } from './service-keys.repository';
import type { ServiceInstanceRecord } from './service-instances.repository';
import { ServiceInstancesService, serviceTarget } from './service-instances.service';
import { isIdle, operationPhrase } from './service-lifecycle';

/**
 * Service keys (Cloud Foundry's create-service-key): credentials of a managed instance for use
 * outside an app, each a login of its own made as a binding's is (ServiceAdminService.createLogin,
 * `k_<key id>`), so it acts as the instance's owner role and reaches its database only. Who can
 * connect with them: the cells' network rules admit to an instance's host port only bound apps'
 * containers, the platform's own networks (other cells, controllers) and the cell's host itself,
 * so a key works from the platform's hosts (or through a tunnel to one), never from the outside
 * (docs/services.md). Space developers create and delete keys; viewers list them but never see
 * credentials (403). Deleting a key drops its login at once, ending its sessions.
 */
@Injectable()
export class ServiceKeysService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly keys: ServiceKeysRepository,
    private readonly instances: ServiceInstancesService,
    private readonly admin: ServiceAdminService,
    private readonly cells: ServiceCellsService,
    private readonly access: AccessService,
    private readonly events: EventsService,
  ) {}

  async list(actor: Actor, idOrName: string, spaceId?: string): Promise<ServiceKeyView[]> {
    const instance = await this.instances.resolve(actor, idOrName, 'read', spaceId);
    return (await this.keys.list(instance.id)).map((k) => keyView(k, instance));
  }

  /** One key with its credentials: developers only (a viewer gets 403, as for anything that would let it change data). */
  async get(actor: Actor, idOrName: string, keyName: string, spaceId?: string): Promise<ServiceKeyView> {
    const instance = await this.instances.resolve(actor, idOrName, 'read', spaceId);
    const key = await this.keys.find(instance.id, keyName);
    if (!key) throw notFound('service key', keyName, `list the keys of ${instance.name} with GET /v1/service_instances/${instance.name}/keys`);
    if ((await this.access.roleIn(actor, instance.spaceId)) === 'VIEWER') {
      throw new DomainException(ErrorCode.Forbidden, `your role in this space is viewer: reading the credentials of service key ${key.name} needs the developer or admin role (ask a space admin)`);
    }
    return keyView(key, instance, true);
  }

  async create(actor: Actor, idOrName: string, name: string, spaceId?: string): Promise<ServiceKeyView> {
    const instance = await this.instances.resolve(actor, idOrName, 'write', spaceId);
    if (instance.type === 'user-provided') {
      throw new DomainException(ErrorCode.Unprocessable, `service keys are not supported for user-provided instances: ${instance.name}'s credentials are the ones you gave it`);
    }
    if (instance.type !== 'managed') {
      throw new DomainException(ErrorCode.Unprocessable, `service keys of brokered instances are not supported yet: bind ${instance.name} to an app instead`);
    }
    if (!isIdle(instance)) {
      throw new DomainException(ErrorCode.ServiceInstanceNotReady, `service instance ${instance.name} cannot be given a key now: ${operationPhrase(instance)}; try again once its last_operation succeeded`);
    }
    const taken = () => new DomainException(ErrorCode.NameTaken, `service instance ${instance.name} has a key named ${name} already: choose another name, or read it with GET /v1/service_instances/${instance.name}/keys/${name}`);
    if (await this.keys.find(instance.id, name)) throw taken();
    const id = randomUUID();
    const login = await this.admin.createLogin(instance, id, 'key').catch((error: Error) => {
      throw new DomainException(ErrorCode.ServiceUnreachable, `the server of ${instance.name} (cell ${instance.cellId}) did not take the new login: ${error.message}; nothing was changed, try again`);
    });
    const key = await this.keys.create({ id, serviceInstanceId: instance.id, name, ...login }).catch(async (error: unknown) => {
      await this.dropQuietly(instance, login.username);
      throw error;
    });
    if (!key) {
      await this.dropQuietly(instance, login.username);
      throw taken();
    }
    await this.events.record(actor, 'service-key-created', serviceTarget(instance), { key: name, key_id: id });
    this.logger.info({ instance: instance.name, key: name }, 'service-key-created');
    return keyView(key, instance, true);
  }

  /**
   * Drops the key's login (its sessions end) and then its record. A server that does not answer
   * is a 503 with nothing changed, but on a lost cell the key goes (the login stays on the volume,
   * out of reach: no one is given it again).
   */
  async delete(actor: Actor, idOrName: string, keyName: string, spaceId?: string): Promise<void> {
    const instance = await this.instances.resolve(actor, idOrName, 'write', spaceId);
    const key = await this.keys.find(instance.id, keyName);
    if (!key) throw notFound('service key', keyName, `list the keys of ${instance.name} with GET /v1/service_instances/${instance.name}/keys`);
    try {
      await this.admin.dropLogin(instance, key.username);
    } catch (error) {
      const lost = instance.cellId !== null && !(await this.cells.liveCellIds()).has(instance.cellId);
      if (!lost) {
        throw new DomainException(ErrorCode.ServiceUnreachable, `the server of ${instance.name} (cell ${instance.cellId}) did not drop the key's login: ${(error as Error).message}; nothing was changed, try again`);
      }
      this.logger.warn({ instance: instance.name, key: key.name, cell: instance.cellId }, 'service-key-login-left-on-lost-cell');
    }
    if (await this.keys.delete(key.id)) {
      await this.events.record(actor, 'service-key-deleted', serviceTarget(instance), { key: key.name, key_id: key.id });
      this.logger.info({ instance: instance.name, key: key.name }, 'service-key-deleted');
    }
  }

  private async dropQuietly(instance: ServiceInstanceRecord, username: string): Promise<void> {
    await this.admin.dropLogin(instance, username).catch((error: Error) => this.logger.warn({ err: error, instance: instance.name, login: username }, 'service-key-login-not-dropped'));
  }
}

function keyView(key: ServiceKey, instance: { id: string; name: string }, withCredentials = false): ServiceKeyView {
  return {
    id: key.id,
    name: key.name,
    service_instance_id: instance.id,
    service_instance_name: instance.name,
    ...(withCredentials ? { credentials: key.credentials as Record<string, string | number> } : {}),
    created_at: key.createdAt.toISOString(),
  };
}
