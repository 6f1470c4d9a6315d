import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { stageResultSchema, type StageResult } from '@paas/contracts';
import { listLiveCells } from '@paas/redis';
import { LOGGER, type Logger } from '../config/config.module';
import type { Actor } from '../auth/actor';
import { AppsRepository } from '../apps/apps.repository';
import { BlobstoreService } from '../blobstore/blobstore.service';
import { notFound } from '../common/domain.exception';
import { DeploymentsService } from '../deployments/deployments.service';
import { EventsService } from '../events/events.service';
import { RedisService } from '../redis/redis.module';
import { ReleasesRepository } from '../releases/releases.repository';
import { CellQueuesService } from '../scheduler/cell-queues.service';
import { pickCell } from '@paas/scheduling';
import { BuildsRepository } from './builds.repository';

function routerPort(routerUrl: string): string {
  const port = new URL(routerUrl).port;
  return port ? `:${port}` : '';
}

const STAGING_TIMEOUT_MS = 15 * 60_000;

/** Push → stage on a cell → droplet → release → rolling deployment. */
@Injectable()
export class StagingService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly apps: AppsRepository,
    private readonly builds: BuildsRepository,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsService,
    private readonly blobs: BlobstoreService,
    private readonly redis: RedisService,
    private readonly queues: CellQueuesService,
    private readonly events: EventsService,
  ) {}

  /** Returns true when the new release runs; `say` receives every line for the pushing user. */
  async stageAndDeploy(actor: Actor, appName: string, commitSha: string, source: Readable, say: (line: string) => void): Promise<boolean> {
    const app = await this.apps.find(appName);
    if (!app) throw notFound('app', appName);
    const build = await this.builds.create(app.id, commitSha);
    const log = this.logger.child({ app: app.name, build: build.id });
    const fail = async (message: string) => {
      await this.builds.markFailed(build.id, message);
      say(`!     ${message}`);
      say(`!     push rejected: the running release of ${app.name} was left as it was`);
      log.info({ reason: message }, 'build-failed');
      return false;
    };

    await this.blobs.put('packages', build.id, source);
    const cell = pickCell(await listLiveCells(this.redis.redis, this.redis.keys), new Map());
    if (!cell) return fail('no cell is available to stage the app: start a cell (npm start runs two)');
    await this.builds.assignCell(build.id, cell.id);
    say(`-----> Staging ${app.name} (${commitSha.slice(0, 7)}) on cell ${cell.id}`);
    const web = (await this.apps.processes(app.id)).find((p) => p.type === 'web');
    const result = await this.runStaging(build.id, cell.id, app.id, app.name, web?.memoryMb ?? 256, app.env as Record<string, string>, say);
    if (!result.ok || !result.startCommand) return fail(result.error ?? 'staging failed');

    // The Procfile's types beside web (worker, clock, ...): each becomes a process of the app, with
    // no instance until it is scaled, as on Heroku; web keeps its scale.
    const processTypes = { ...(result.processTypes ?? {}), web: result.startCommand };
    await this.apps.ensureProcesses(app.id, Object.keys(processTypes));
    const dropletId = await this.builds.markStaged(build, result.buildpack ?? 'unknown', processTypes);
    let release;
    try {
      release = await this.releases.create({
        appId: app.id,
        dropletId,
        env: app.env as Record<string, string>,
        processTypes,
        description: `deploy ${commitSha.slice(0, 7)}`,
      });
      say(`-----> Release v${release.version}: ${Object.entries(processTypes).map(([type, cmd]) => `${type}: ${cmd}`).join(', ')}`);
      await this.deployments.deploy(actor, app, release, { wait: true, say });
    } catch (error) {
      return fail((error as Error).message);
    }
    const url = `http://${app.name}.${this.redis.config.appsDomain}${routerPort(this.redis.config.routerUrl)}/`;
    say(`-----> ${app.name} v${release.version} is live at ${url}`);
    await this.events.record(actor, 'app-pushed', { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId }, {
      commit: commitSha,
      release: release.version,
    });
    log.info({ release: release.version }, 'deploy-succeeded');
    return true;
  }
  /** Queues the staging job on the cell and relays its log lines until its end message. */
  private async runStaging(
    buildId: string,
    cellId: string,
    appId: string,
    appName: string,
    memoryMb: number,
    env: Record<string, string>,
    say: (line: string) => void,
  ): Promise<StageResult> {
    const sub = this.redis.duplicate(`build-log-${buildId}`);
    const channel = this.redis.keys.buildLog(buildId);
    try {
      const done = new Promise<StageResult>((resolve) => {
        const timer = setTimeout(
          () => resolve({ ok: false, error: `staging did not finish within ${STAGING_TIMEOUT_MS / 60_000} minutes` }),
          STAGING_TIMEOUT_MS,
        );
        sub.on('message', (_channel: string, message: string) => {
          try {
            const event = JSON.parse(message) as { type: string; text?: string; result?: unknown };
            if (event.type === 'line' && typeof event.text === 'string') say(event.text);
            if (event.type === 'end') {
              clearTimeout(timer);
              const parsed = stageResultSchema.safeParse(event.result);
              resolve(parsed.success ? parsed.data : { ok: false, error: 'the cell sent an invalid staging result' });
            }
          } catch {
            // A malformed log message is skipped.
          }
        });
      });
      await sub.subscribe(channel);
      await this.queues.stage(cellId, {
        buildId,
        appId,
        appName,
        sourceUrl: this.blobs.url('packages', buildId),
        dropletUploadUrl: this.blobs.url('droplets', buildId),
        memoryMb: Math.max(memoryMb, 1024),
        env,
      });
      return await done;
    } finally {
      sub.disconnect();
    }
  }
}
