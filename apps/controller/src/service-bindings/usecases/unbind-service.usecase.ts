import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { DomainException, ErrorCode, notFound } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { AppsRepository } from '../../apps/apps.repository';
import { AppsService } from '../../apps/apps.service';
import { EventsService } from '../../audit/events.service';
import { DeploymentsService } from '../../deployments/deployments.service';
import { ReleasesRepository } from '../../releases/releases.repository';
import { ServiceBindingsRepository } from '../../services/service-bindings.repository';
import { BoundInstanceService } from '../bound-instance.service';
import { BindingLoginsService } from '../binding-logins.service';
import type { ChangeResult } from '@paas/contracts';
import { appTarget } from '../../apps/app-target';
import { rollRelease } from '../../deployments/roll-release';

/**
 * One write: `DELETE /v1/apps/:app/service_bindings/:instance`. Under the app's row lock: drops
 * the binding's login on the server at once (its sessions end: the credentials are refused from
 * now on), forgets the binding and, when the app runs a release, rolls out a release without it
 * ("unbind NAME").
 */
@Injectable()
export class UnbindService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
    private readonly bound: BoundInstanceService,
    private readonly bindings: ServiceBindingsRepository,
    private readonly logins: BindingLoginsService,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsService,
    private readonly events: EventsService,
  ) {}

  async run(actor: Actor, appRef: string, instanceRef: string): Promise<ChangeResult> {
    const app = await this.apps.resolve(actor, appRef, 'write');
    const instance = await this.bound.resolve(actor, app, instanceRef);
    const outcome = await this.appsRepo.withLock(app.id, async (tx, locked) => {
      if (!locked) throw notFound('app', app.name, 'list apps with GET /v1/apps');
      const binding = await this.bindings.find(app.id, instance.id, tx);
      if (!binding) throw notFound('binding', `of ${app.name} to ${instance.name}`, `list the bindings of ${app.name} with GET /v1/apps/${app.name}/service_bindings`);
      const roll = await rollRelease(this.releases, this.deployments, app, locked.currentReleaseId, { description: `unbind ${instance.name}` }, tx);
      const dropped = await this.logins.drop(binding);
      if (dropped === 'unreachable') {
        throw new DomainException(
          ErrorCode.ServiceUnreachable,
          instance.type === 'brokered'
            ? `the broker of ${instance.name} did not remove the binding (the controller's log says what it answered): nothing was changed, try again`
            : `the server of ${instance.name} (cell ${instance.cellId}) did not drop the binding's login: nothing was changed, try again`,
        );
      }
      await this.bindings.delete(binding.id, tx);
      await this.events.record(actor, 'service-unbound', appTarget(app), { service_instance: instance.name, service_instance_id: instance.id, binding_id: binding.id, login: dropped }, tx);
      return roll;
    });
    if (outcome.release && outcome.deployment) await this.deployments.execute(actor, outcome.deployment, app, outcome.release, { wait: false });
    this.logger.info({ app: app.name, instance: instance.name }, 'service-unbound');
    return { release_version: outcome.release?.version ?? null, deployment_id: outcome.deployment?.id ?? null };
  }
}
