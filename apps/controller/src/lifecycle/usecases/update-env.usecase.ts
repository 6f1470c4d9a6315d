import { Injectable } from '@nestjs/common';
import { notFound } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { AppsRepository } from '../../apps/apps.repository';
import { AppsService } from '../../apps/apps.service';
import { EventsService } from '../../audit/events.service';
import { DeploymentsService } from '../../deployments/deployments.service';
import { ReleasesRepository } from '../../releases/releases.repository';
import { rollRelease } from '../../deployments/roll-release';
import { appTarget } from '../../apps/app-target';
import type { ChangeResult } from '@paas/contracts';
import { applyEnvPatch, type EnvPatch } from '../env-rules';

/**
 * One write: `PATCH /v1/apps/:app/env`. Merges the patch under the app's row lock; when the app
 * runs a release, makes a release with the new env and rolls it out (409 while a deployment runs).
 */
@Injectable()
export class UpdateEnv {
  constructor(
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsService,
    private readonly events: EventsService,
  ) {}

  async run(actor: Actor, idOrName: string, patch: EnvPatch): Promise<ChangeResult & { var: Record<string, string> }> {
    const app = await this.apps.resolve(actor, idOrName, 'write');
    const outcome = await this.appsRepo.withLock(app.id, async (tx, locked) => {
      if (!locked) throw notFound('app', app.name, 'list apps with GET /v1/apps');
      const env = applyEnvPatch(locked.env, patch.var);
      await this.appsRepo.setEnv(app.id, env, tx);
      const { release, deployment } = await rollRelease(this.releases, this.deployments, app, locked.currentReleaseId, { description: 'env changed', env }, tx);
      await this.events.record(actor, 'app-env-changed', appTarget(app), { names: Object.keys(patch.var) }, tx);
      return { env, release, deployment };
    });
    if (outcome.release && outcome.deployment) {
      await this.deployments.execute(actor, outcome.deployment, app, outcome.release, { wait: false });
    }
    return { var: outcome.env, release_version: outcome.release?.version ?? null, deployment_id: outcome.deployment?.id ?? null };
  }
}
