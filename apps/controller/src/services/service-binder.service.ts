import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Prisma, ServiceInstance } from '../generated/prisma/client';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import { ServiceAdminService } from './service-admin.service';
import { isProvisioned } from './service-views';
import { ServiceBindingsRepository, type ServiceBindingRecord } from './service-bindings.repository';

/**
 * Making a binding: a login of its own on the instance's server and the binding's row, in the
 * caller's transaction (which holds the app's row lock: the bind API, a push's manifest). The
 * login exists once `bind` returns: a caller whose transaction fails afterwards drops it again
 * (`dropQuietly`), so no login outlives a binding that was never recorded.
 */
@Injectable()
export class ServiceBinderService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly admin: ServiceAdminService,
    private readonly bindings: ServiceBindingsRepository,
  ) {}

  /** 409 unless the instance's create succeeded (and it is not being deleted; a restore or resize since is fine). */
  requireBindable(instance: ServiceInstance): void {
    if (isProvisioned(instance)) return;
    const op = `its ${instance.operationType} ${instance.operationState === 'in progress' ? 'is in progress' : instance.operationState}`;
    throw new DomainException(
      ErrorCode.ServiceInstanceNotReady,
      `service instance ${instance.name} cannot be bound: ${op}; bind it once GET /v1/service_instances/${instance.name} says last_operation create succeeded`,
    );
  }

  /** The binding of `appId` to `instance`, its login made on the server (503 when the server does not answer: nothing made). */
  async bind(tx: Prisma.TransactionClient, appId: string, instance: ServiceInstance): Promise<ServiceBindingRecord> {
    this.requireBindable(instance);
    const id = randomUUID();
    const login = await this.admin.createLogin(instance, id).catch((error: Error) => {
      throw new DomainException(
        ErrorCode.ServiceUnreachable,
        `the server of ${instance.name} (cell ${instance.cellId}) did not take the new login: ${error.message}; nothing was changed, try again`,
      );
    });
    try {
      return await this.bindings.create({ id, appId, serviceInstanceId: instance.id, ...login }, tx);
    } catch (error) {
      await this.dropQuietly(instance, login.username);
      throw error;
    }
  }

  /** Drops a login made for a binding that was not recorded after all; a failure is logged. */
  async dropQuietly(instance: ServiceInstance, username: string | null): Promise<void> {
    await this.admin.dropLogin(instance, username).catch((error: Error) => this.logger.warn({ err: error, instance: instance.name, login: username }, 'binding-login-not-dropped'));
  }
}
