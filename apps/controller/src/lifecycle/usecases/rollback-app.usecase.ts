import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { notFound } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { AppsRepository } from '../../apps/apps.repository';
import { AppsService } from '../../apps/apps.service';
import { EventsService } from '../../audit/events.service';
import { DeploymentsService, prunedDroplet } from '../../deployments/deployments.service';
import { ReleasePruningService } from '../../releases/release-pruning.service';
import { ReleasesRepository } from '../../releases/releases.repository';
import { appTarget } from '../../apps/app-target';
import type { ChangeResult } from '@paas/contracts';

/**
 * One write: `POST /v1/apps/:app/actions/rollback {version}`. A new release with the droplet and
 * env of release `version`, rolled out, under the app's row lock (as pruning marks droplets: never
 * a release on a droplet being deleted). 410 when that droplet was pruned (naming the releases one
 * can roll back to), 409 while a deployment runs.
 */
@Injectable()
export class RollbackApp {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsService,
    private readonly events: EventsService,
    private readonly pruning: ReleasePruningService,
  ) {}

  async run(actor: Actor, idOrName: string, version: number): Promise<ChangeResult> {
    const app = await this.apps.resolve(actor, idOrName, 'write');
    const target = await this.releases.findVersion(app.id, version);
    if (!target) throw notFound('release', `v${version} of ${app.name}`, 'list releases with GET /v1/apps/NAME/releases');
    const { release, deployment } = await this.appsRepo.withLock(app.id, async (tx) => {
      await this.deployments.refuseWhileDeploying(app, tx);
      const droplet = await this.releases.droplet(target.dropletId, tx);
      if (droplet.prunedAt) {
        throw prunedDroplet(app.name, version, this.pruning.kept, await this.releases.rollbackTargets(app.id));
      }
      const release = await this.releases.create(
        {
          appId: app.id,
          dropletId: target.dropletId,
          env: target.env as Record<string, string>,
          processTypes: target.processTypes as Record<string, string>,
          description: `rollback to v${version}`,
        },
        tx,
      );
      await this.appsRepo.setEnvAndStart(app.id, target.env as Record<string, string>, tx);
      const deployment = await this.deployments.begin(app, release, tx);
      await this.events.record(actor, 'app-rolled-back', appTarget(app), { to_version: version, release: release.version }, tx);
      return { release, deployment };
    });
    await this.deployments.execute(actor, deployment, app, release, { wait: false });
    this.logger.info({ app: app.name, to: version }, 'app-rolled-back');
    return { release_version: release.version, deployment_id: deployment.id };
  }
}
