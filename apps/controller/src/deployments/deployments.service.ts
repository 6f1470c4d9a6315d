import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Deployment, Prisma } from '../generated/prisma/client';
import type { ActualInstance } from '@paas/contracts';
import { clearDeployCancel, holdLease, leaseHeld, requestDeployCancel } from '@paas/redis';
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
import { abortableSleep, CanceledError, CancelWatch } from './cancel-watch';
import { healthTimeoutMessage, healthVerdict, releaseCommandOf } from './deploy-reports';
import { DeploymentsRepository } from './deployments.repository';
import { instanceSpecFor } from './instance-specs';
import { ReleasePhaseService } from './release-phase.service';

export function inProgress(appName: string): DomainException {
  return new DomainException(
    ErrorCode.DeploymentInProgress,
    `a deployment of ${appName} is already running: wait for it to finish (GET /v1/apps/${appName}/deployments) or cancel it ` +
      `(POST /v1/apps/${appName}/deployments/ID/cancel), then try again`,
  );
}

/** New instances started at once during a rolling deploy, per process type. */
const MAX_IN_FLIGHT = 2;
/**
 * Beyond an instance's health-check timeout, how long the deployment waits for its cell's verdict
 * (the cell's own timeout starts after the droplet download; its report carries the log lines).
 */
const CELL_VERDICT_GRACE_MS = 30_000;
/** How often the new instances' state is read while waiting for them. */
const HEALTH_POLL_MS = 200;
/** A cancel request stays this long (a deployment never runs longer). */
const CANCEL_KEY_TTL_S = 3600;
/** How long an undone deployment waits for its new instances to be gone before it restores old ones. */
const UNDO_WAIT_MS = 10_000;
/** How long a cancel request waits for the deployment to stop before it answers. */
const CANCEL_WAIT_MS = 15_000;

type Say = (line: string) => void;
type ActorLike = Actor | typeof SYSTEM_ACTOR;

/** An old instance stopped by a deployment: its index is started again from the previous release if the deployment does not finish. */
interface Replaced {
  instanceId: string;
  processType: string;
  index: number;
}

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
 * release stays current.
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

  /** The instance specs of each process type of `release`, with the app's current routes. */
  async specsOf(app: AppWithSpace, release: ReleaseWithDroplet): Promise<Array<{ spec: InstanceSpec; instances: number }>> {
    const routes = await this.routes.routesOfApp(app.id);
    const out: Array<{ spec: InstanceSpec; instances: number }> = [];
    for (const process of await this.apps.processes(app.id)) {
      // The release phase runs once per deployment as a task, never as instances.
      if (process.type === 'release') continue;
      const uris = routes
        .filter((r) => r.destinations.some((d) => d.appId === app.id && d.processType === process.type))
        .map((r) => fqdnOf(r.host, r.domain.name) + r.path);
      const spec = instanceSpecFor(app, release, process, this.blobs.url('droplets', release.droplet.blobId), uris);
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
    cancel.start();
    const started: string[] = [];
    const replaced: Replaced[] = [];
    const previousReleaseId = (await this.apps.find(app.id))?.currentReleaseId ?? null;
    try {
      await cancel.check();
      if (release.droplet.prunedAt) throw prunedDroplet(app.name, release.version);
      const specs = await this.specsOf(app, release);
      const web = specs.find((s) => s.spec.processType === 'web');
      if (!web) {
        throw new DomainException(ErrorCode.Unprocessable, 'the release has no web command: add a Procfile "web:" line or a start script');
      }
      // The release phase: once per deployment of a release that is not running yet (a restart of
      // the current release does not run it again), before any new instance starts.
      const command = releaseCommandOf(release.processTypes);
      if (command && release.id !== previousReleaseId) {
        await this.releasePhase.run(deployment.id, web.spec, command, say, cancel.signal);
        await cancel.check();
      }
      for (const { spec, instances } of specs) {
        await this.rollProcess(app, spec, instances, started, replaced, say, cancel.signal);
      }
      // The last step a cancel can stop: past this point the release is live.
      await cancel.check();
      await this.apps.setCurrentRelease(app.id, release.id);
      await this.deployments.finish(deployment.id, 'DEPLOYED');
    } catch (error) {
      const canceledBy = cancel.by ?? (error instanceof CanceledError ? error.by : undefined);
      cancel.stop();
      await this.undo(app, started, replaced, previousReleaseId, canceledBy ? 'canceled deployment' : 'failed deployment');
      if (canceledBy !== undefined) {
        const reason = `canceled by ${canceledBy}`;
        await this.deployments.finish(deployment.id, 'CANCELED', reason);
        say(`-----> Deployment canceled by ${canceledBy}: the new instances were removed`);
        throw new DomainException(
          ErrorCode.DeploymentCanceled,
          `deployment ${deployment.id} of ${app.name} was ${reason}: the new instances were removed and the previous release keeps serving`,
        );
      }
      await this.deployments.finish(deployment.id, 'FAILED', (error as Error).message);
      throw error;
    } finally {
      cancel.stop();
      await lease.release();
      await clearDeployCancel(this.redis.redis, this.redis.keys, deployment.id).catch(() => undefined);
    }
    // Outside the deployment: a failure to prune never fails a deploy that succeeded.
    await this.pruning.pruneApp(app.id).catch((error) => this.logger.warn({ err: error, app: app.name }, 'prune-failed'));
  }

  /**
   * After a failed or canceled deployment: removes the instances it started and starts again, from
   * the release that stays current, the old instances it had already replaced (a batch beyond
   * the first). What fits nowhere now is left to the convergence loop.
   */
  private async undo(app: AppWithSpace, started: readonly string[], replaced: readonly Replaced[], currentReleaseId: string | null, reason: string): Promise<void> {
    try {
      const actual = await this.instances.actual(app.id);
      const mine = actual.filter((a) => started.includes(a.instanceId));
      for (const i of mine) await this.instances.stop(i, reason).catch(() => undefined);
      // Gone (bounded) before the deployment ends: its caller then sees only the previous release's
      // instances, and the convergence loop, free once it ends, never sees a new instance and its
      // restored predecessor at one index and keeps the wrong one.
      if (mine.length && !(await this.instances.waitGone(app.id, mine.map((i) => i.instanceId), UNDO_WAIT_MS))) {
        this.logger.warn({ app: app.name }, 'new instances of an undone deployment not gone yet');
      }
      if (!replaced.length || !currentReleaseId) return;
      const fresh = await this.apps.find(app.id);
      const current = await this.releases.find(currentReleaseId);
      if (!fresh || fresh.state !== 'STARTED' || !current) return;
      const gone = new Set([...started, ...replaced.map((r) => r.instanceId)]);
      const remaining = (await this.instances.actual(app.id)).filter((a) => !gone.has(a.instanceId) && a.state !== 'CRASHED' && a.state !== 'STOPPING');
      for (const { spec } of await this.specsOf(fresh, current)) {
        const missing = replaced
          .filter((r) => r.processType === spec.processType && !remaining.some((a) => a.processType === r.processType && a.index === r.index))
          .map((r) => r.index);
        if (missing.length) await this.instances.startMany(spec, missing);
      }
    } catch (error) {
      this.logger.warn({ err: error, app: app.name }, 'deployment-undo-incomplete');
    }
  }

  /** Replaces the old instances of one process type by `instances` new ones, a few at a time. */
  private async rollProcess(
    app: AppWithSpace,
    spec: InstanceSpec,
    instances: number,
    started: string[],
    replaced: Replaced[],
    say: Say,
    signal: AbortSignal,
  ): Promise<void> {
    // Everything of this type that ran before this deployment is replaced (a restart redeploys the same release).
    const old = (await this.instances.actual(app.id)).filter((i) => i.processType === spec.processType && !started.includes(i.instanceId));
    if (instances > 0) say(`-----> Starting ${instances} ${spec.processType} instance(s) of ${app.name}`);
    for (let first = 0; first < instances; first += MAX_IN_FLIGHT) {
      if (signal.aborted) throw signal.reason as Error;
      const indexes = Array.from({ length: Math.min(MAX_IN_FLIGHT, instances - first) }, (_, k) => first + k);
      const { placed, unplaced } = await this.instances.startMany(spec, indexes);
      started.push(...placed.map((p) => p.instanceId));
      if (unplaced.length > 0) throw new DomainException(ErrorCode.NoCellAvailable, unplaced[0].reason);
      await this.waitHealthy(app.id, spec, placed, (line) => say(`       ${line}`), signal);
      for (const index of indexes) {
        for (const o of old.filter((o) => o.index === index)) {
          await this.instances.stop(o, 'replaced by a new release');
          replaced.push({ instanceId: o.instanceId, processType: o.processType, index: o.index });
        }
      }
    }
    const extras: ActualInstance[] = old.filter((o) => o.index >= instances);
    for (const o of extras) await this.instances.stop(o, 'replaced by a new release');
    const stopped = old.length;
    if (stopped) say(`-----> Stopped ${stopped} ${spec.processType} instance(s) of the previous release`);
  }

  /**
   * Waits until the new instances run (healthy, routed). Fails as soon as one crashes or misses
   * its health check, with its cell's reason and last log lines; fails too when the cells say
   * nothing within the health timeout and a grace; stops at once when `signal` aborts.
   */
  private async waitHealthy(
    appId: string,
    spec: InstanceSpec,
    placed: ReadonlyArray<{ index: number; instanceId: string }>,
    onProgress: (line: string) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const ids = placed.map((p) => p.instanceId);
    const deadline = Date.now() + spec.healthCheck.timeoutS * 1000 + CELL_VERDICT_GRACE_MS;
    let last = -1;
    while (Date.now() < deadline) {
      if (signal.aborted) throw signal.reason as Error;
      const verdict = healthVerdict(await this.instances.actual(appId), ids, spec.processType);
      if (verdict.kind === 'failed') throw new DomainException(ErrorCode.StagingFailed, verdict.message);
      if (verdict.kind === 'running') {
        if (last !== ids.length) onProgress(`${ids.length} of ${ids.length} new instance(s) running`);
        return;
      }
      if (verdict.running !== last) onProgress(`${verdict.running} of ${ids.length} new instance(s) running`);
      last = verdict.running;
      await abortableSleep(HEALTH_POLL_MS, signal);
    }
    throw new DomainException(ErrorCode.StagingFailed, healthTimeoutMessage(spec.processType, placed.map((p) => p.index), spec.healthCheck.timeoutS));
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

/** A release whose droplet was pruned cannot be deployed again. */
export function prunedDroplet(appName: string, version: number, kept?: number, reachable: readonly number[] = []): DomainException {
  const keptText = kept ? `only the droplets of the newest ${kept} releases are kept (PAAS_RELEASES_KEPT)` : 'old droplets are not kept';
  const targets = reachable.length ? `roll back to one of ${reachable.map((v) => `v${v}`).join(', ')}, or ` : '';
  return new DomainException(
    ErrorCode.ReleasePruned,
    `release v${version} of ${appName} can no longer be deployed: its droplet was pruned (${keptText}); ${targets}push its commit again to build it anew`,
  );
}
