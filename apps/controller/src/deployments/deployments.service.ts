import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Deployment, Prisma } from '../generated/prisma/client';
import type { ActualInstance } from '@paas/contracts';
import { LOGGER, type Logger } from '../config/config.module';
import { DomainException, ErrorCode } from '../common/domain.exception';
import type { Actor } from '../auth/actor';
import { AppsRepository, type AppWithSpace } from '../apps/apps.repository';
import { BlobstoreService } from '../blobstore/blobstore.service';
import { EventsService, SYSTEM_ACTOR } from '../events/events.service';
import { RedisService } from '../redis/redis.module';
import { ReleasesRepository, type ReleaseWithDroplet } from '../releases/releases.repository';
import { RoutesRepository } from '../routes/routes.repository';
import { fqdnOf } from '../routes/route-projection.service';
import { InstancesService, type InstanceSpec } from '../scheduler/instances.service';
import { DeploymentsRepository } from './deployments.repository';
import { instanceSpecFor } from './instance-specs';

export function inProgress(appName: string): DomainException {
  return new DomainException(
    ErrorCode.DeploymentInProgress,
    `a deployment of ${appName} is already running: wait for it to finish (GET /v1/apps/${appName}/deployments), then try again`,
  );
}

/** New instances started at once during a rolling deploy, per process type. */
const MAX_IN_FLIGHT = 2;
const LEASE_TTL_S = 30;
const SWEEP_INTERVAL_MS = 15_000;

type Say = (line: string) => void;
type ActorLike = Actor | typeof SYSTEM_ACTOR;

/**
 * Moves an app to a release without dropping requests: for each process type, start new instances
 * (a bounded number at a time), wait until they are healthy (and so routed), then stop as many old
 * ones (each cell withdraws the route before it stops the container); finally make the release
 * current. One deployment per app at a time (409 otherwise). A deployment holds a lease in Redis
 * while it runs; one whose controller died is marked FAILED by any replica's sweeper.
 */
@Injectable()
export class DeploymentsService implements OnModuleInit, OnModuleDestroy {
  private sweeper?: NodeJS.Timeout;

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly deployments: DeploymentsRepository,
    private readonly apps: AppsRepository,
    private readonly releases: ReleasesRepository,
    private readonly routes: RoutesRepository,
    private readonly instances: InstancesService,
    private readonly blobs: BlobstoreService,
    private readonly events: EventsService,
    private readonly redis: RedisService,
  ) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => void this.sweep().catch((e) => this.logger.warn({ err: e }, 'deployment-sweep-failed')), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /** Starts a deployment of `release`; with `wait` resolves when it ends (and throws when it fails). */
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

  /** Runs a recorded deployment; with `wait` resolves when it ends (and throws when it fails). */
  async execute(actor: ActorLike, deployment: Deployment, app: AppWithSpace, release: ReleaseWithDroplet, options: { wait: boolean; say?: Say }): Promise<void> {
    await this.events.record(actor, 'deploy-started', { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId }, {
      deployment_id: deployment.id,
      release: release.version,
    });
    const run = this.run(deployment, app, release, options.say ?? (() => undefined)).then(
      async () => {
        await this.events.record(actor, 'deploy-succeeded', { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId }, {
          deployment_id: deployment.id,
          release: release.version,
        });
      },
      async (error: Error) => {
        await this.events.record(actor, 'deploy-failed', { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId }, {
          deployment_id: deployment.id,
          release: release.version,
          reason: error.message,
        });
        throw error;
      },
    );
    if (options.wait) await run;
    else run.catch((error) => this.logger.warn({ err: error, app: app.name }, 'deployment-failed'));
  }

  /** The instance specs of each process type of `release`, with the app's current routes. */
  async specsOf(app: AppWithSpace, release: ReleaseWithDroplet): Promise<Array<{ spec: InstanceSpec; instances: number }>> {
    const routes = await this.routes.routesOfApp(app.id);
    const out: Array<{ spec: InstanceSpec; instances: number }> = [];
    for (const process of await this.apps.processes(app.id)) {
      const uris = routes
        .filter((r) => r.destinations.some((d) => d.appId === app.id && d.processType === process.type))
        .map((r) => fqdnOf(r.host, r.domain.name) + r.path);
      const spec = instanceSpecFor(app, release, process, this.blobs.url('droplets', release.droplet.blobId), uris);
      if (spec) out.push({ spec, instances: process.instances });
    }
    return out;
  }

  private async run(deployment: Deployment, app: AppWithSpace, release: ReleaseWithDroplet, say: Say): Promise<void> {
    const lease = this.redis.keys.deployLease(deployment.id);
    await this.redis.redis.set(lease, '1', 'EX', LEASE_TTL_S);
    const renew = setInterval(() => void this.redis.redis.expire(lease, LEASE_TTL_S).catch(() => undefined), (LEASE_TTL_S * 1000) / 3);
    const started: string[] = [];
    try {
      const specs = await this.specsOf(app, release);
      if (!specs.some((s) => s.spec.processType === 'web')) {
        throw new DomainException(ErrorCode.Unprocessable, 'the release has no web command: add a Procfile "web:" line or a start script');
      }
      for (const { spec, instances } of specs) {
        await this.rollProcess(app, spec, instances, started, say);
      }
      await this.apps.setCurrentRelease(app.id, release.id);
      await this.deployments.finish(deployment.id, 'DEPLOYED');
    } catch (error) {
      for (const i of (await this.instances.actual(app.id)).filter((a) => started.includes(a.instanceId))) {
        await this.instances.stop(i, 'failed deployment').catch(() => undefined);
      }
      await this.deployments.finish(deployment.id, 'FAILED', (error as Error).message);
      throw error;
    } finally {
      clearInterval(renew);
      await this.redis.redis.del(lease).catch(() => undefined);
    }
  }

  /** Replaces the old instances of one process type by `instances` new ones, a few at a time. */
  private async rollProcess(app: AppWithSpace, spec: InstanceSpec, instances: number, started: string[], say: Say): Promise<void> {
    // Everything of this type that ran before this deployment is replaced (a restart redeploys the same release).
    const old = (await this.instances.actual(app.id)).filter((i) => i.processType === spec.processType && !started.includes(i.instanceId));
    if (instances > 0) say(`-----> Starting ${instances} ${spec.processType} instance(s) of ${app.name}`);
    for (let first = 0; first < instances; first += MAX_IN_FLIGHT) {
      const indexes = Array.from({ length: Math.min(MAX_IN_FLIGHT, instances - first) }, (_, k) => first + k);
      const { placed, unplaced } = await this.instances.startMany(spec, indexes);
      started.push(...placed.map((p) => p.instanceId));
      if (unplaced.length > 0) throw new DomainException(ErrorCode.NoCellAvailable, unplaced[0].reason);
      await this.instances.waitRunning(app.id, placed.map((p) => p.instanceId), spec.healthCheck.timeoutS * 1000, (line) => say(`       ${line}`));
      for (const index of indexes) {
        for (const o of old.filter((o) => o.index === index)) await this.instances.stop(o, 'replaced by a new release');
      }
    }
    const extras: ActualInstance[] = old.filter((o) => o.index >= instances);
    for (const o of extras) await this.instances.stop(o, 'replaced by a new release');
    const stopped = old.length;
    if (stopped) say(`-----> Stopped ${stopped} ${spec.processType} instance(s) of the previous release`);
  }

  /** Marks as FAILED the deployments whose controller stopped while running them (no lease). */
  async sweep(): Promise<void> {
    for (const d of await this.deployments.allActive()) {
      if (Date.now() - d.updatedAt.getTime() < LEASE_TTL_S * 1000) continue;
      const held = await this.redis.redis.exists(this.redis.keys.deployLease(d.id));
      if (!held) await this.deployments.finish(d.id, 'FAILED', 'the controller running this deployment stopped; deploy again');
    }
  }
}
