import { Inject, Injectable } from '@nestjs/common';
import type { Deployment, Prisma } from '../generated/prisma/client';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import type { Actor } from '../auth/actor';
import type { AppWithSpace } from '../apps/apps.repository';
import { EventsService, SYSTEM_ACTOR } from '../audit/events.service';
import type { ReleaseWithDroplet } from '../releases/releases.repository';
import { inProgress } from './deployment-errors';
import type { Say } from './deployment-run';
import { DeploymentRunner } from './deployment-runner.service';
import { DeploymentsRepository } from './deployments.repository';

export { inProgress, prunedDroplet } from './deployment-errors';

type ActorLike = Actor | typeof SYSTEM_ACTOR;

/**
 * Moves an app to a release without dropping requests: runs the release command when the release
 * has one (once, before any new instance starts), then for each process type starts new instances
 * (a bounded number at a time), waits until they are healthy (and so routed), then stops as many
 * old ones (each cell withdraws the route before it stops the container); finally makes the
 * release current and prunes old droplets. One deployment per app at a time (409 otherwise).
 *
 * A deployment holds a lease in Redis while it runs; one whose controller died is marked FAILED
 * by any replica's DeploymentSweeper. A cancel (CancelDeployment, any replica) sets a key the
 * running deployment polls: it stops at its next step, even inside a wait. A deployment that
 * fails or is canceled removes the instances it started and starts again the old ones it had
 * already replaced; the previous release stays current. This service records a deployment and
 * its audit events; DeploymentRunner runs it (each run a DeploymentRun carrying its state).
 */
@Injectable()
export class DeploymentsService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly deployments: DeploymentsRepository,
    private readonly events: EventsService,
    private readonly runner: DeploymentRunner,
  ) {}

  /** Starts a deployment of `release`; with `wait` resolves when it ends (and throws when it fails or is canceled). */
  async deploy(actor: ActorLike, app: AppWithSpace, release: ReleaseWithDroplet, options: { wait: boolean; say?: Say }): Promise<Deployment> {
    const deployment = await this.begin(app, release);
    await this.execute(actor, deployment, app, release, options);
    return deployment;
  }

  /** Records the deployment (409 when one of this app is running); `tx` makes it part of a change's transaction. */
  async begin(app: AppWithSpace, release: ReleaseWithDroplet, tx?: Prisma.TransactionClient): Promise<Deployment> {
    const deployment = await this.deployments.start(app.id, release.id, tx);
    if (!deployment) throw inProgress(app.name);
    return deployment;
  }

  /** 409 when a deployment of the app is running; `tx` reads it inside a change's transaction (under the app's lock). */
  async refuseWhileDeploying(app: AppWithSpace, tx?: Prisma.TransactionClient): Promise<void> {
    if (await this.deployments.active(app.id, tx)) throw inProgress(app.name);
  }

  /** Runs a recorded deployment; with `wait` resolves when it ends (and throws when it fails or is canceled). */
  async execute(actor: ActorLike, deployment: Deployment, app: AppWithSpace, release: ReleaseWithDroplet, options: { wait: boolean; say?: Say }): Promise<void> {
    const target = { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId };
    await this.events.record(actor, 'deploy-started', target, { deployment_id: deployment.id, release: release.version });
    const run = this.runner.run(deployment, app, release, options.say ?? (() => undefined)).then(
      async () => {
        await this.events.record(actor, 'deploy-succeeded', target, { deployment_id: deployment.id, release: release.version });
      },
      async (error: Error) => {
        const canceled = error instanceof DomainException && error.code === ErrorCode.DeploymentCanceled;
        await this.events.record(actor, canceled ? 'deploy-canceled' : 'deploy-failed', target, {
          deployment_id: deployment.id,
          release: release.version,
          reason: error.message,
        });
        throw error;
      },
    );
    if (options.wait) await run;
    else {
      run.catch((error: Error) => {
        const canceled = error instanceof DomainException && error.code === ErrorCode.DeploymentCanceled;
        this.logger.warn({ err: error, app: app.name }, canceled ? 'deployment-canceled' : 'deployment-failed');
      });
    }
  }
}
