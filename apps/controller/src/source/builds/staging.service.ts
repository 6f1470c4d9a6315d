import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { logSource, stageResultSchema, type StageJob, type StageResult } from '@paas/contracts';
import { holdLease, listLiveCells, subscribeWhenReady } from '@paas/redis';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../../platform/config/controller-config';
import type { Actor } from '../../auth/actor';
import { AppsRepository, type AppWithSpace } from '../../apps/apps.repository';
import { BlobstoreService } from '../../storage/blobstore.service';
import { notFound } from '../../platform/common/domain.exception';
import { DeploymentsService, inProgress } from '../../deployments/deployments.service';
import { EventsService } from '../../audit/events.service';
import { AppLogsService } from '../../platform/app-logs/app-logs.service';
import type { Build } from '../../generated/prisma/client';
import { commandlessTypes, releaseProcessTypes } from '../manifest/manifest-plan';
import { ManifestService, type ManifestApplied, type ManifestPlan } from '../manifest/manifest.service';
import { RedisService } from '../../platform/redis/redis.module';
import { ReleasesRepository } from '../../releases/releases.repository';
import { fqdnOf, RouteProjectionService } from '../../routing/route-projection.service';
import { RoutesRepository } from '../../routing/routes.repository';
import { CellQueuesService } from '../../placement/cell-queues.service';
import { pickStagingCell } from '@paas/scheduling';
import { BuildLogWriter } from './build-log';
import { BuildLogsRepository } from './build-logs.repository';
import { SecurityGroupsService } from '../../security-groups/security-groups.service';
import { BuildsRepository } from './builds.repository';

function routerPort(routerUrl: string): string {
  const port = new URL(routerUrl).port;
  return port ? `:${port}` : '';
}

const STAGING_TIMEOUT_MS = 15 * 60_000;
/**
 * How often a push checks its stage job besides listening for the cell's end message: pub/sub
 * loses messages while Redis is down, and a Redis that restarted empty lost the job itself.
 */
const STAGE_JOB_CHECK_INTERVAL_MS = 3_000;
/** A Procfile `release:` command runs once per deploy (DeploymentsService); it is never a process with instances. */
const RELEASE_TYPE = 'release';

type Say = (line: string) => void;

/**
 * Push → manifest checked → stage on a cell → droplet → manifest applied with the release →
 * rolling deployment. Every line said to the pusher is also kept as the build's log.
 */
@Injectable()
export class StagingService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly apps: AppsRepository,
    private readonly builds: BuildsRepository,
    private readonly buildLogs: BuildLogsRepository,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsService,
    private readonly manifests: ManifestService,
    private readonly routes: RoutesRepository,
    private readonly projection: RouteProjectionService,
    private readonly blobs: BlobstoreService,
    private readonly redis: RedisService,
    private readonly queues: CellQueuesService,
    private readonly events: EventsService,
    private readonly appLogs: AppLogsService,
    private readonly securityGroups: SecurityGroupsService,
  ) {}

  /** Returns true when the new release runs; `say` receives every line for the pushing user (and the build's log). */
  async stageAndDeploy(actor: Actor, appName: string, commitSha: string, source: Readable, tell: Say): Promise<boolean> {
    const app = await this.apps.find(appName);
    if (!app) throw notFound('app', appName);
    const build = await this.builds.create(app.id, commitSha);
    // Held until the push ends: if this process dies, any replica's BuildSweeperService ends the build.
    const lease = await holdLease(this.redis.redis, this.redis.keys.buildLease(build.id), this.config.leases.ttlMs);
    const log = this.logger.child({ app: app.name, build: build.id });
    const buildLog = new BuildLogWriter(build.id, this.buildLogs, { onError: (err) => log.warn({ err }, 'build-log-write-failed') });
    // The app's log gets the push's lines as STG/0 until the droplet is staged (the deploy has its own lines).
    let staging = true;
    const say: Say = (line) => {
      tell(line);
      buildLog.append(line);
      if (staging) this.appLogs.append(app.id, logSource.staging, line.startsWith('!') ? 'ERR' : 'OUT', line);
    };
    try {
      return await this.push(actor, app, build, commitSha, source, say, log, () => (staging = false));
    } catch (error) {
      // Not a build failure the steps below report themselves (e.g. the upload broke off).
      const message = (error as Error).message;
      await this.builds.markFailed(build.id, message).catch(() => undefined);
      say(`!     ${message}`);
      log.warn({ err: error }, 'push-failed');
      return false;
    } finally {
      await buildLog.close();
      await lease.release();
    }
  }

  private async push(
    actor: Actor,
    app: AppWithSpace,
    build: Build,
    commitSha: string,
    source: Readable,
    say: Say,
    log: Logger,
    /** Staging is over (the droplet is staged): what follows is the deploy. */
    staged: () => void,
  ): Promise<boolean> {
    const fail = async (message: string) => {
      await this.builds.markFailed(build.id, message);
      say(`!     ${message}`);
      say(`!     push rejected: the running release of ${app.name} was left as it was`);
      log.info({ reason: message }, 'build-failed');
      return false;
    };

    await this.blobs.put('packages', build.id, source);

    // The manifest is read and checked before anything happens: an invalid one changes nothing.
    const manifest = await this.manifests.check(app, build.id, actor);
    const file = manifest.file ?? 'manifest.yml';
    for (const warning of manifest.warnings) say(`!     ${file}: ${warning}`);
    if (manifest.errors.length > 0) {
      for (const error of manifest.errors) say(`!     ${file}: ${error}`);
      return fail(`${file} is invalid: fix ${manifest.errors.length === 1 ? 'the error' : `the ${manifest.errors.length} errors`} above and push again`);
    }
    const plan = manifest.plan;
    if (plan) say(`-----> Using ${plan.file} (applications[${plan.app.index}])`);

    const appEnv = app.env as Record<string, string>;
    const stageEnv = { ...appEnv, ...(plan?.app.env ?? {}) };
    const buildpack = plan?.app.buildpack ?? (stageEnv.BUILDPACK?.trim() || undefined);
    if (buildpack) say(`-----> Buildpack ${buildpack} (named by ${plan?.app.buildpack ? plan.file : 'the BUILDPACK variable'})`);

    const cell = pickStagingCell(await listLiveCells(this.redis.redis, this.redis.keys), await this.builds.lastStagingCell(app.id));
    if (!cell) return fail('no cell is available to stage the app: start a cell (npm start runs two)');
    await this.builds.assignCell(build.id, cell.id);
    say(`-----> Staging ${app.name} (${commitSha.slice(0, 7)}) on cell ${cell.id}`);
    const processes = await this.apps.processes(app.id);
    const webMemory = plan?.app.processes.web?.memoryMb ?? processes.find((p) => p.type === 'web')?.memoryMb ?? 256;
    const result = await this.runStaging(build.id, cell.id, app, webMemory, stageEnv, buildpack, say);
    if (!result.ok || !result.startCommand) return fail(result.error ?? 'staging failed');
    staged();

    // The Procfile's types beside web (worker, clock, ...): each becomes a process of the app, with
    // no instance until it is scaled, as on Heroku; web keeps its scale. `release` is no process:
    // it stays in the release's process types and runs once per deploy.
    const dropletTypes = { ...(result.processTypes ?? {}), web: result.startCommand };
    if (plan) {
      const commands = Object.fromEntries(processes.map((p) => [p.type, p.command]));
      const problems = commandlessTypes(plan.app, dropletTypes, commands);
      if (problems.length > 0) {
        for (const problem of problems) say(`!     ${plan.file}: ${problem}`);
        return fail(`${plan.file} names process types without a command: fix it and push again`);
      }
    }
    const processTypes = releaseProcessTypes(plan?.app, dropletTypes);
    const dropletId = await this.builds.markStaged(build, result.buildpack ?? 'unknown', dropletTypes);
    let release;
    try {
      const prepared = await this.releaseWithManifest(actor, app, plan, dropletId, processTypes, commitSha);
      release = prepared.release;
      for (const host of prepared.applied?.hosts ?? []) {
        // The deployment is recorded: a projection failure must not leave it unrun (the next sync of the host, or a restart, catches up).
        await this.projection.syncHost(host).catch((err: Error) => {
          log.warn({ err, host }, 'route-projection-failed');
          say(`!     the routes of ${host} could not be published to the routers yet: ${err.message}`);
        });
      }
      for (const line of prepared.applied?.lines ?? []) say(`-----> Manifest: ${line}`);
      say(`-----> Release v${release.version}: ${Object.entries(processTypes).map(([type, cmd]) => `${type}: ${cmd}`).join(', ')}`);
      await this.deployments.execute(actor, prepared.deployment, app, release, { wait: true, say });
    } catch (error) {
      return fail((error as Error).message);
    }
    const urls = await this.webUrls(app.id);
    say(
      urls.length
        ? `-----> ${app.name} v${release.version} is live at ${urls.join(', ')}`
        : `-----> ${app.name} v${release.version} runs with no route: bind one with POST /v1/routes/ROUTE_ID/destinations`,
    );
    await this.events.record(actor, 'app-pushed', { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId }, {
      commit: commitSha,
      release: release.version,
      build_id: build.id,
    });
    log.info({ release: release.version }, 'deploy-succeeded');
    return true;
  }

  /**
   * In one transaction under the app's row lock: the manifest applied (processes, env, routes),
   * the process types ensured, the release made and its deployment recorded. A deployment already
   * running refuses it all (409), so a push never half-applies its manifest.
   */
  private async releaseWithManifest(
    actor: Actor,
    app: AppWithSpace,
    plan: ManifestPlan | undefined,
    dropletId: string,
    processTypes: Record<string, string>,
    commitSha: string,
  ) {
    return this.builds.inTransaction(
      async (tx) => {
        const env = await this.builds.lockAppEnv(app.id, tx);
        if (await this.builds.hasActiveDeployment(app.id, tx)) throw inProgress(app.name);
        let applied: ManifestApplied | undefined;
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
    );
  }

  /** http://host.domain[:port]/path of every route bound to the app's web process. */
  private async webUrls(appId: string): Promise<string[]> {
    const port = routerPort(this.redis.config.routerUrl);
    return (await this.routes.routesOfApp(appId))
      .filter((r) => r.destinations.some((d) => d.appId === appId && d.processType === 'web'))
      .map((r) => `http://${fqdnOf(r.host, r.domain.name)}${port}${r.path || '/'}`);
  }

  /** Queues the staging job on the cell and relays its log lines until its end message. */
  private async runStaging(
    buildId: string,
    cellId: string,
    { id: appId, name: appName, spaceId }: { id: string; name: string; spaceId: string },
    memoryMb: number,
    env: Record<string, string>,
    buildpack: string | undefined,
    say: Say,
  ): Promise<StageResult> {
    const sub = this.redis.duplicate(`build-log-${buildId}`);
    const channel = this.redis.keys.buildLog(buildId);
    let watch: NodeJS.Timeout | undefined;
    try {
      const job: StageJob = {
        buildId,
        appId,
        appName,
        sourceUrl: this.blobs.url('packages', buildId),
        dropletUploadUrl: this.blobs.url('droplets', buildId),
        memoryMb: Math.max(memoryMb, 1024),
        env,
        ...(buildpack ? { buildpack } : {}),
        // Read now: a binding made before the push applies to its build.
        egress: await this.securityGroups.rulesFor(spaceId, 'staging'),
      };
      const done = new Promise<StageResult>((resolve) => {
        const timer = setTimeout(
          () => resolve({ ok: false, error: `staging did not finish within ${STAGING_TIMEOUT_MS / 60_000} minutes` }),
          STAGING_TIMEOUT_MS,
        );
        const finish = (result: StageResult) => {
          clearTimeout(timer);
          clearInterval(watch);
          resolve(result);
        };
        let checking = false;
        let endedBefore = false;
        // The job's own record: its result when the end message was lost, or the job again when
        // Redis lost it (the cell stages a build once however often the job comes). A job seen
        // ended is taken at the next check, so the cell's last lines and end message come first.
        watch = setInterval(() => {
          if (checking) return;
          checking = true;
          void this.queues
            .stageJob(cellId, buildId)
            .then(async (found) => {
              const ended = found.state === 'completed' || found.state === 'failed';
              const take = ended && endedBefore;
              endedBefore = ended;
              if (!take && ended) return;
              if (found.state === 'completed') {
                const parsed = stageResultSchema.safeParse(found.result);
                finish(parsed.success ? parsed.data : { ok: false, error: 'the cell sent an invalid staging result' });
              } else if (found.state === 'failed') {
                finish({ ok: false, error: `staging failed on cell ${cellId}: ${found.reason}` });
              } else if (found.state === 'absent') {
                this.logger.warn({ event: 'stage-job-requeued', build: buildId, cell: cellId }, 'the stage job is gone from its queue (redis lost its data?): queuing it again');
                await this.queues.stage(cellId, job);
              }
            })
            .catch((err: Error) => this.logger.warn({ err, build: buildId }, 'stage-job-check-failed'))
            .finally(() => (checking = false));
        }, STAGE_JOB_CHECK_INTERVAL_MS);
        sub.on('message', (_channel: string, message: string) => {
          try {
            const event = JSON.parse(message) as { type: string; text?: string; result?: unknown };
            if (event.type === 'line' && typeof event.text === 'string') say(event.text);
            if (event.type === 'end') {
              const parsed = stageResultSchema.safeParse(event.result);
              finish(parsed.success ? parsed.data : { ok: false, error: 'the cell sent an invalid staging result' });
            }
          } catch {
            // A malformed log message is skipped.
          }
        });
      });
      await subscribeWhenReady(sub, channel);
      await this.queues.stage(cellId, job);
      return await done;
    } finally {
      clearInterval(watch);
      sub.disconnect();
    }
  }
}
