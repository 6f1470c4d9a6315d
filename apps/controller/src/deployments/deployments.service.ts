import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Deployment, Prisma } from '../generated/prisma/client';
import { holdLease, leaseHeld, requestDeployCancel } from '@paas/redis';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { LostLeases } from '../platform/common/lease';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { Actor } from '../auth/actor';
import { AppsRepository, type AppWithSpace } from '../apps/apps.repository';
import { BlobstoreService } from '../storage/blobstore.service';
import { EventsService, SYSTEM_ACTOR } from '../audit/events.service';
import { RedisService } from '../platform/redis/redis.module';
import { ReleasesRepository, type ReleaseWithDroplet } from '../releases/releases.repository';
import { ReleasePruningService } from '../releases/release-pruning.service';
import { RoutesRepository } from '../routing/routes.repository';
import { fqdnOf } from '../routing/route-projection.service';
import { InstancesService, type InstanceSpec } from '../placement/instances.service';
import { BoundServicesService } from '../services/bound-services.service';
import { abortableSleep, CancelWatch } from './cancel-watch';
import { inProgress } from './deployment-errors';
import { DeploymentRun, HEALTH_POLL_MS, type DeploymentSteps, type Say } from './deployment-run';
import { DeploymentsRepository } from './deployments.repository';
import { instanceSpecFor } from './instance-specs';
import { ReleasePhaseService } from './release-phase.service';

export { inProgress, prunedDroplet } from './deployment-errors';

/** A cancel request stays this long (a deployment never runs longer). */
const CANCEL_KEY_TTL_S = 3600;
/** How long a cancel request waits for the deployment to stop before it answers. */
const CANCEL_WAIT_MS = 15_000;

type ActorLike = Actor | typeof SYSTEM_ACTOR;

/**
 * Moves an app to a release without dropping requests: runs the release command when the release
 * has one (once, before any new instance starts), then for each process type starts new instances
 * (a bounded number at a time), waits until they are healthy (and so routed), then stops as many
 * old ones (each cell withdraws the route before it stops the container); finally makes the
 * release current and prunes old droplets. One deployment per app at a time (409 otherwise).
 *
 * A deployment holds a lease in Redis while it runs; one whose controller died is marked FAILED
 * by any replica's sweeper. A cancel (any replica) sets a key the running deployment polls: it
 * stops at its next step, even inside a wait. A deployment that fails or is canceled removes the
 * instances it started and starts again the old ones it had already replaced; the previous
 * release stays current. Each run is a DeploymentRun (deployment-run.ts) carrying its state.
 */
@Injectable()
export class DeploymentsService implements OnModuleInit, OnModuleDestroy {
  private sweeper?: NodeJS.Timeout;
  private lostLeases?: LostLeases;

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly deployments: DeploymentsRepository,
    private readonly apps: AppsRepository,
    private readonly releases: ReleasesRepository,
    private readonly routes: RoutesRepository,
    private readonly instances: InstancesService,
    private readonly blobs: BlobstoreService,
    private readonly events: EventsService,
    private readonly redis: RedisService,
    private readonly releasePhase: ReleasePhaseService,
    private readonly pruning: ReleasePruningService,
    private readonly boundServices: BoundServicesService,
  ) {}

  onModuleInit(): void {
    this.sweeper = setInterval(
      () => void this.sweep().catch((e) => this.logger.warn({ err: e }, 'deployment-sweep-failed')),
      this.config.leases.sweepIntervalMs,
    );
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

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

  /** Runs a recorded deployment; with `wait` resolves when it ends (and throws when it fails or is canceled). */
  async execute(actor: ActorLike, deployment: Deployment, app: AppWithSpace, release: ReleaseWithDroplet, options: { wait: boolean; say?: Say }): Promise<void> {
    const target = { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId };
    await this.events.record(actor, 'deploy-started', target, { deployment_id: deployment.id, release: release.version });
    const run = this.run(deployment, app, release, options.say ?? (() => undefined)).then(
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

  /** The instance specs of each process type of `release`, with the app's current routes and bound services. */
  async specsOf(app: AppWithSpace, release: ReleaseWithDroplet): Promise<Array<{ spec: InstanceSpec; instances: number }>> {
    const routes = await this.routes.routesOfApp(app.id);
    const services = await this.boundServices.of(app.id);
    const out: Array<{ spec: InstanceSpec; instances: number }> = [];
    for (const process of await this.apps.processes(app.id)) {
      // The release phase runs once per deployment as a task, never as instances.
      if (process.type === 'release') continue;
      const uris = routes
        .filter((r) => r.destinations.some((d) => d.appId === app.id && d.processType === process.type))
        .map((r) => fqdnOf(r.host, r.domain.name) + r.path);
      const spec = instanceSpecFor(app, release, process, this.blobs.url('droplets', release.droplet.blobId), uris, services);
      if (spec) out.push({ spec, instances: process.instances });
    }
    return out;
  }

  /**
   * Asks a running deployment to stop (from any replica): it removes the instances it started,
   * the previous release keeps serving, and it ends CANCELED. Waits (bounded) for it to stop and
   * returns the deployment as it then is. 404 for an unknown id, 409 when it is not running.
   */
  async cancel(actor: Actor, app: AppWithSpace, deploymentId: string): Promise<Deployment> {
    const deployment = /^[0-9a-f-]{36}$/i.test(deploymentId) ? await this.deployments.find(deploymentId) : null;
    if (!deployment || deployment.appId !== app.id) {
      throw notFound('deployment', deploymentId, `list the deployments of ${app.name} with GET /v1/apps/${app.name}/deployments`);
    }
    if (deployment.state !== 'DEPLOYING') {
      throw new DomainException(
        ErrorCode.DeploymentNotRunning,
        `deployment ${deployment.id} of ${app.name} is not running (it ended ${deployment.state}): only a running deployment can be canceled; ` +
          `to undo a finished one, roll back with POST /v1/apps/${app.name}/actions/rollback`,
      );
    }
    await requestDeployCancel(this.redis.redis, this.redis.keys, deployment.id, actor.name, CANCEL_KEY_TTL_S);
    await this.events.record(actor, 'deploy-cancel-requested', { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId }, {
      deployment_id: deployment.id,
    });
    this.logger.info({ app: app.name, deployment: deployment.id, by: actor.name }, 'deploy-cancel-requested');
    // No controller runs a deployment without a lease (its controller stopped): nobody would notice the key.
    if (await this.orphaned(deployment)) {
      await this.deployments.finish(deployment.id, 'CANCELED', `canceled by ${actor.name} (the controller running it had stopped)`);
    }
    const deadline = Date.now() + CANCEL_WAIT_MS;
    let latest = deployment;
    while (Date.now() < deadline) {
      latest = (await this.deployments.find(deployment.id)) ?? latest;
      if (latest.state !== 'DEPLOYING') break;
      await abortableSleep(HEALTH_POLL_MS);
    }
    return latest;
  }

  private async run(deployment: Deployment, app: AppWithSpace, release: ReleaseWithDroplet, say: Say): Promise<void> {
    const lease = await holdLease(this.redis.redis, this.redis.keys.deployLease(deployment.id), this.config.leases.ttlMs);
    const cancel = new CancelWatch(this.redis.redis, this.redis.keys, deployment.id);
    const previousReleaseId = (await this.apps.find(app.id))?.currentReleaseId ?? null;
    const steps: DeploymentSteps = {
      logger: this.logger,
      apps: this.apps,
      releases: this.releases,
      deployments: this.deployments,
      instances: this.instances,
      releasePhase: this.releasePhase,
      redis: this.redis,
      specsOf: (a, r) => this.specsOf(a, r),
    };
    await new DeploymentRun(steps, { deployment, app, release, previousReleaseId, lease, cancel, say }).run();
    // Outside the deployment: a failure to prune never fails a deploy that succeeded.
    await this.pruning.pruneApp(app.id).catch((error) => this.logger.warn({ err: error, app: app.name }, 'prune-failed'));
  }

  /** True when nobody runs the deployment any more: no lease, and not just begun. */
  private async orphaned(d: Deployment): Promise<boolean> {
    if (Date.now() - d.updatedAt.getTime() < this.config.leases.ttlMs) return false;
    return !(await leaseHeld(this.redis.redis, this.redis.keys.deployLease(d.id)));
  }

  /** Marks as FAILED the deployments whose controller stopped while running them (no lease). */
  async sweep(): Promise<void> {
    this.lostLeases ??= new LostLeases(this.redis.redis, this.config.leases.ttlMs);
    const active = await this.deployments.allActive();
    this.lostLeases.keepOnly(active.map((d) => d.id));
    for (const d of active) {
      if (Date.now() - d.updatedAt.getTime() < this.config.leases.ttlMs) continue;
      if (!(await this.lostLeases.lost(d.id, this.redis.keys.deployLease(d.id)))) continue;
      await this.deployments.finish(
        d.id,
        'FAILED',
        'the controller running this deployment stopped (its lease expired): the previous release keeps serving; deploy again',
      );
      this.logger.warn({ deployment: d.id, app: d.appId }, 'deployment-orphaned');
    }
  }
}
