import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ServiceBindingView } from '@paas/contracts';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { DomainException, ErrorCode, notFound } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { AppsRepository } from '../../apps/apps.repository';
import { AppsService } from '../../apps/apps.service';
import { EventsService } from '../../audit/events.service';
import { DeploymentsService } from '../../deployments/deployments.service';
import { ReleasesRepository } from '../../releases/releases.repository';
import { ServiceAdminService, type BindingLogin } from '../../services/service-admin.service';
import { ServiceBindingsRepository } from '../../services/service-bindings.repository';
import { ServiceInstancesRepository } from '../../services/service-instances.repository';
import { serviceBindingView } from '../../services/service-views';
import { BoundInstanceService } from '../bound-instance.service';
import { appTarget, rollRelease, type ChangeResult } from '../roll-release';

/**
 * One write: `POST /v1/apps/:app/service_bindings`. Under the app's row lock: refuses an instance
 * already bound (409) or not created (409), creates the binding's own login on the instance's
 * server, records the binding and, when the app runs a release, makes a release with the same
 * droplet and env ("bind NAME") and rolls it out, so every instance restarts with the service.
 */
@Injectable()
export class BindService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
    private readonly bound: BoundInstanceService,
    private readonly instances: ServiceInstancesRepository,
    private readonly bindings: ServiceBindingsRepository,
    private readonly admin: ServiceAdminService,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsService,
    private readonly events: EventsService,
  ) {}

  async run(actor: Actor, appRef: string, instanceRef: string): Promise<ChangeResult & { binding: ServiceBindingView }> {
    const app = await this.apps.resolve(actor, appRef, 'write');
    const resolved = await this.bound.resolve(actor, app, instanceRef);
    let login: BindingLogin | undefined;
    const bind = () =>
      this.appsRepo.withLock(app.id, async (tx, locked) => {
        if (!locked) throw notFound('app', app.name, 'list apps with GET /v1/apps');
        if (await this.bindings.find(app.id, resolved.id, tx)) {
          throw new DomainException(ErrorCode.AlreadyBound, `${app.name} is bound to ${resolved.name} already: nothing to do (unbind it first to get new credentials)`);
        }
        const instance = await this.instances.find(resolved.id, tx);
        if (!instance || instance.operationType !== 'create' || instance.operationState !== 'succeeded') {
          const op = instance ? `its ${instance.operationType} ${instance.operationState === 'in progress' ? 'is in progress' : instance.operationState}` : 'it is gone';
          throw new DomainException(
            ErrorCode.ServiceInstanceNotReady,
            `service instance ${resolved.name} cannot be bound: ${op}; bind it once GET /v1/service_instances/${resolved.name} says last_operation create succeeded`,
          );
        }
        const roll = await rollRelease(this.releases, this.deployments, app, locked.currentReleaseId, `bind ${instance.name}`, tx);
        const id = randomUUID();
        login = await this.admin.createLogin(instance, id).catch((error: Error) => {
          throw new DomainException(
            ErrorCode.ServiceUnreachable,
            `the server of ${instance.name} (cell ${instance.cellId}) did not take the new login: ${error.message}; nothing was changed, try again`,
          );
        });
        const binding = await this.bindings.create({ id, appId: app.id, serviceInstanceId: instance.id, ...login }, tx);
        await this.events.record(actor, 'service-bound', appTarget(app), { service_instance: instance.name, service_instance_id: instance.id, binding_id: id }, tx);
        return { binding, ...roll };
      });
    const outcome = await bind().catch(async (error: unknown) => {
      // The login was made but the binding was not recorded (the transaction rolled back): it goes again.
      const made = login as BindingLogin | undefined;
      if (made) await this.admin.dropLogin(resolved, made.username).catch((e: Error) => this.logger.warn({ err: e, instance: resolved.name }, 'binding-login-not-dropped'));
      throw error;
    });
    if (outcome.release && outcome.deployment) await this.deployments.execute(actor, outcome.deployment, app, outcome.release, { wait: false });
    this.logger.info({ app: app.name, instance: resolved.name }, 'service-bound');
    return { binding: serviceBindingView(outcome.binding), release_version: outcome.release?.version ?? null, deployment_id: outcome.deployment?.id ?? null };
  }
}
