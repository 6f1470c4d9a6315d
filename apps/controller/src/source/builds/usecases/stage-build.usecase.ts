import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { stageResultSchema, type StageJob, type StageResult } from '@paas/contracts';
import { listLiveCells, subscribeWhenReady } from '@paas/redis';
import { pickStagingCell } from '@paas/scheduling';
import { LOGGER, type Logger } from '../../../platform/config/config.module';
import { RedisService } from '../../../platform/redis/redis.module';
import type { Actor } from '../../../auth/actor';
import { AppsRepository, type AppWithSpace } from '../../../apps/apps.repository';
import type { Build } from '../../../generated/prisma/client';
import { CellQueuesService } from '../../../placement/cell-queues.service';
import { SecurityGroupsService } from '../../../security-groups/security-groups.service';
import { BlobstoreService } from '../../../storage/blobstore.service';
import { commandlessTypes, releaseProcessTypes } from '../../manifest/manifest-plan';
import { ManifestService, type ManifestPlan } from '../../manifest/manifest.service';
import { BuildsRepository } from '../builds.repository';

const STAGING_TIMEOUT_MS = 15 * 60_000;
/**
 * How often a push checks its stage job besides listening for the cell's end message: pub/sub
 * loses messages while Redis is down, and a Redis that restarted empty lost the job itself.
 */
const STAGE_JOB_CHECK_INTERVAL_MS = 3_000;

export type Say = (line: string) => void;

/** A build staged into a droplet, with what its release is to be made of. */
export interface StagedBuild {
  ok: true;
  plan: ManifestPlan | undefined;
  dropletId: string;
  /** The release's process types (the Procfile's and the manifest's). */
  processTypes: Record<string, string>;
}

/** The build cannot become a release: `reason` is what the pusher is told. */
export interface RejectedBuild {
  ok: false;
  reason: string;
}

/**
 * One write: a pushed source becomes a staged droplet. Stores the source package, checks the
 * manifest, stages on a cell (relaying its lines to `say`) and marks the build staged. Every
 * rejection comes back as a reason; the caller marks the build failed.
 */
@Injectable()
export class StageBuild {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly apps: AppsRepository,
    private readonly builds: BuildsRepository,
    private readonly manifests: ManifestService,
    private readonly blobs: BlobstoreService,
    private readonly redis: RedisService,
    private readonly queues: CellQueuesService,
    private readonly securityGroups: SecurityGroupsService,
  ) {}

  /** `staged` is called once the droplet is staged, before the process types are checked. */
  async run(actor: Actor, app: AppWithSpace, build: Build, commitSha: string, source: Readable, say: Say, staged: () => void): Promise<StagedBuild | RejectedBuild> {
    const reject = (reason: string): RejectedBuild => ({ ok: false, reason });
    await this.blobs.put('packages', build.id, source);

    // The manifest is read and checked before anything happens: an invalid one changes nothing.
    const manifest = await this.manifests.check(app, build.id, actor);
    const file = manifest.file ?? 'manifest.yml';
    for (const warning of manifest.warnings) say(`!     ${file}: ${warning}`);
    if (manifest.errors.length > 0) {
      for (const error of manifest.errors) say(`!     ${file}: ${error}`);
      return reject(`${file} is invalid: fix ${manifest.errors.length === 1 ? 'the error' : `the ${manifest.errors.length} errors`} above and push again`);
    }
    const plan = manifest.plan;
    if (plan) say(`-----> Using ${plan.file} (applications[${plan.app.index}])`);

    const appEnv = app.env as Record<string, string>;
    const stageEnv = { ...appEnv, ...(plan?.app.env ?? {}) };
    const buildpack = plan?.app.buildpack ?? (stageEnv.BUILDPACK?.trim() || undefined);
    if (buildpack) say(`-----> Buildpack ${buildpack} (named by ${plan?.app.buildpack ? plan.file : 'the BUILDPACK variable'})`);

    const cell = pickStagingCell(await listLiveCells(this.redis.redis, this.redis.keys), await this.builds.lastStagingCell(app.id));
    if (!cell) return reject('no cell is available to stage the app: start a cell (npm start runs two)');
    await this.builds.assignCell(build.id, cell.id);
    say(`-----> Staging ${app.name} (${commitSha.slice(0, 7)}) on cell ${cell.id}`);
    const processes = await this.apps.processes(app.id);
    const webMemory = plan?.app.processes.web?.memoryMb ?? processes.find((p) => p.type === 'web')?.memoryMb ?? 256;
    const result = await this.runStaging(build.id, cell.id, app, webMemory, stageEnv, buildpack, say);
    if (!result.ok || !result.startCommand) return reject(result.error ?? 'staging failed');
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
        return reject(`${plan.file} names process types without a command: fix it and push again`);
      }
    }
    const processTypes = releaseProcessTypes(plan?.app, dropletTypes);
    const dropletId = await this.builds.markStaged(build, result.buildpack ?? 'unknown', dropletTypes);
    return { ok: true, plan, dropletId, processTypes };
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
