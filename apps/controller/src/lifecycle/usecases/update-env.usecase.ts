import { Injectable } from '@nestjs/common';
import type { Deployment } from '../../generated/prisma/client';
import { notFound } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { AppsRepository } from '../../apps/apps.repository';
import { AppsService } from '../../apps/apps.service';
import { EventsService } from '../../audit/events.service';
import { DeploymentsService } from '../../deployments/deployments.service';
import { ReleasesRepository, type ReleaseWithDroplet } from '../../releases/releases.repository';
import { appTarget, type ChangeResult } from '../change-result';
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
      let release: ReleaseWithDroplet | undefined;
      let deployment: Deployment | undefined;
      if (locked.currentReleaseId) {
        const current = await this.releases.get(locked.currentReleaseId, tx);
        release = await this.releases.create(
          { appId: app.id, dropletId: current.dropletId, env, processTypes: current.processTypes as Record<string, string>, description: 'env changed' },
          tx,
        );
        deployment = await this.deployments.begin(app, release, tx);
      }
      await this.events.record(actor, 'app-env-changed', appTarget(app), { names: Object.keys(patch.var) }, tx);
      return { env, release, deployment };
    });
    if (outcome.release && outcome.deployment) {
      await this.deployments.execute(actor, outcome.deployment, app, outcome.release, { wait: false });
    }
    return { var: outcome.env, release_version: outcome.release?.version ?? null, deployment_id: outcome.deployment?.id ?? null };
  }
}
