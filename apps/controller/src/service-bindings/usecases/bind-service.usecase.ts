import { Inject, Injectable } from '@nestjs/common';
import type { ServiceBindingView } from '@paas/contracts';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { DomainException, ErrorCode, notFound } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { AppsRepository } from '../../apps/apps.repository';
import { AppsService } from '../../apps/apps.service';
import { EventsService } from '../../audit/events.service';
import { DeploymentsService } from '../../deployments/deployments.service';
import { ReleasesRepository } from '../../releases/releases.repository';
import { ServiceBinderService } from '../../services/service-binder.service';
import { ServiceBindingsRepository, type ServiceBindingRecord } from '../../services/service-bindings.repository';
import { ServiceInstancesRepository } from '../../services/service-instances.repository';
import { serviceBindingView } from '../../services/service-views';
import { BoundInstanceService } from '../bound-instance.service';
import type { ChangeResult } from '@paas/contracts';
import { appTarget } from '../../apps/app-target';
import { rollRelease } from '../../deployments/roll-release';

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
    private readonly binder: ServiceBinderService,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsService,
    private readonly events: EventsService,
  ) {}

  async run(actor: Actor, appRef: string, instanceRef: string): Promise<ChangeResult & { binding: ServiceBindingView }> {
    const app = await this.apps.resolve(actor, appRef, 'write');
    const resolved = await this.bound.resolve(actor, app, instanceRef);
    let made: ServiceBindingRecord | undefined;
    const bind = () =>
      this.appsRepo.withLock(app.id, async (tx, locked) => {
        if (!locked) throw notFound('app', app.name, 'list apps with GET /v1/apps');
        if (await this.bindings.find(app.id, resolved.id, tx)) {
          throw new DomainException(ErrorCode.AlreadyBound, `${app.name} is bound to ${resolved.name} already: nothing to do (unbind it first to get new credentials)`);
        }
        const instance = await this.instances.find(resolved.id, tx);
        if (!instance) throw notFound('service instance', resolved.name);
        this.binder.requireBindable(instance);
        const roll = await rollRelease(this.releases, this.deployments, app, locked.currentReleaseId, { description: `bind ${instance.name}` }, tx);
        const binding = await this.binder.bind(tx, app.id, instance);
        made = binding;
        await this.events.record(actor, 'service-bound', appTarget(app), { service_instance: instance.name, service_instance_id: instance.id, binding_id: binding.id }, tx);
        return { binding, ...roll };
      });
    const outcome = await bind().catch(async (error: unknown) => {
      // The login was made but the transaction rolled back: it goes again.
      const binding = made as ServiceBindingRecord | undefined;
      if (binding) await this.binder.dropQuietly(binding.serviceInstance, binding.username, binding.id);
      throw error;
    });
    if (outcome.release && outcome.deployment) await this.deployments.execute(actor, outcome.deployment, app, outcome.release, { wait: false });
    this.logger.info({ app: app.name, instance: resolved.name }, 'service-bound');
    return { binding: serviceBindingView(outcome.binding), release_version: outcome.release?.version ?? null, deployment_id: outcome.deployment?.id ?? null };
  }
}
