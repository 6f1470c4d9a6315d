import { Injectable } from '@nestjs/common';
import type { Logger } from '../../../platform/config/config.module';
import type { Actor } from '../../../auth/actor';
import type { AppWithSpace } from '../../../apps/apps.repository';
import type { Deployment } from '../../../generated/prisma/client';
import { DeploymentsService, inProgress } from '../../../deployments/deployments.service';
import { ReleasesRepository, type ReleaseWithDroplet } from '../../../releases/releases.repository';
import { RouteProjectionService } from '../../../routing/route-projection.service';
import { ManifestService, type ManifestApplied } from '../../manifest/manifest.service';
import { BuildsRepository } from '../builds.repository';
import type { Say, StagedBuild } from './stage-build.usecase';

/** A Procfile `release:` command runs once per deploy (DeploymentsService); it is never a process with instances. */
const RELEASE_TYPE = 'release';

/** The release a push made and the deployment recorded to roll it out (not run yet). */
export interface RecordedRelease {
  release: ReleaseWithDroplet;
  deployment: Deployment;
}

/**
 * One write: a staged build becomes the app's next release. In one transaction under the app's
 * row lock: the manifest applied (processes, env, routes, service bindings), the process types ensured, the release
 * made and its deployment recorded. A deployment already running refuses it all (409), so a push
 * never half-applies its manifest. Then the hosts the manifest touched are projected to the routers.
 */
@Injectable()
export class RecordRelease {
  constructor(
    private readonly builds: BuildsRepository,
    private readonly manifests: ManifestService,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsService,
    private readonly projection: RouteProjectionService,
  ) {}

  async run(actor: Actor, app: AppWithSpace, staged: StagedBuild, commitSha: string, say: Say, log: Logger): Promise<RecordedRelease> {
    const { plan, dropletId, processTypes } = staged;
    let applied: ManifestApplied | undefined;
    const prepared = await this.builds.inTransaction(
      async (tx) => {
        const env = await this.builds.lockAppEnv(app.id, tx);
        if (await this.builds.hasActiveDeployment(app.id, tx)) throw inProgress(app.name);
        if (plan) applied = await this.manifests.apply(tx, actor, app, plan, env);
        await this.builds.ensureProcesses(app.id, Object.keys(processTypes).filter((t) => t !== RELEASE_TYPE), tx);
        const release = await this.releases.create(
          { appId: app.id, dropletId, env: applied?.env ?? env, processTypes, description: `deploy ${commitSha.slice(0, 7)}` },
          tx,
        );
        const deployment = await this.deployments.begin(app, release, tx);
        return { release, deployment, applied };
      },
      { timeout: 30_000, maxWait: 10_000 },
    ).catch(async (error: unknown) => {
      // The manifest's bindings were rolled back with the transaction: their logins go too.
      const made = (applied as ManifestApplied | undefined)?.bindings ?? [];
      await this.manifests.dropBindings(made);
      throw error;
    });
    for (const host of prepared.applied?.hosts ?? []) {
      // The deployment is recorded: a projection failure must not leave it unrun (the next sync of the host, or a restart, catches up).
      await this.projection.syncHost(host).catch((err: Error) => {
        log.warn({ err, host }, 'route-projection-failed');
        say(`!     the routes of ${host} could not be published to the routers yet: ${err.message}`);
      });
    }
    for (const line of prepared.applied?.lines ?? []) say(`-----> Manifest: ${line}`);
    say(`-----> Release v${prepared.release.version}: ${Object.entries(processTypes).map(([type, cmd]) => `${type}: ${cmd}`).join(', ')}`);
    return { release: prepared.release, deployment: prepared.deployment };
  }
}
