import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { stageResultSchema, type StageResult } from '@paas/contracts';
import { listLiveCells } from '@paas/redis';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { LOGGER, type Logger } from '../config/config.module';
import { AppsRepository } from '../apps/apps.repository';
import { AppsService } from '../apps/apps.service';
import { BlobstoreService } from '../blobstore/blobstore.service';
import { DomainException } from '../common/domain.exception';
import { RedisService } from '../redis/redis.module';
import { CellQueuesService } from '../scheduler/cell-queues.service';
import { DeployerService } from '../scheduler/deployer.service';
import { pickCell } from '../scheduler/placement';
import { BuildsRepository } from './builds.repository';

const STAGING_TIMEOUT_MS = 15 * 60_000;

/** Push → stage on a cell → release → start new instances → stop old ones. */
@Injectable()
export class StagingService {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
    private readonly builds: BuildsRepository,
    private readonly blobs: BlobstoreService,
    private readonly redis: RedisService,
    private readonly queues: CellQueuesService,
    private readonly deployer: DeployerService,
  ) {}

  /** Returns true when the new release runs; `say` receives every line for the pushing user. */
  async stageAndDeploy(appName: string, commitSha: string, source: Readable, say: (line: string) => void): Promise<boolean> {
    const app = await this.apps.require(appName);
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

    const result = await this.runStaging(build.id, cell.id, app.id, app.name, app.memoryMb, say);
    if (!result.ok || !result.startCommand) return fail(result.error ?? 'staging failed');

    const release = await this.builds.createRelease(build, result.buildpack ?? 'unknown', result.startCommand);
    say(`-----> Release v${release.version}: web: ${result.startCommand}`);
    say(`-----> Starting ${app.instances} instance(s) of ${app.name}`);
    let started: string[] = [];
    try {
      started = await this.deployer.startRelease({
        appId: app.id,
        appName: app.name,
        releaseId: release.id,
        dropletId: build.id,
        dropletUrl: this.blobs.url('droplets', build.id),
        startCommand: result.startCommand,
        memoryMb: app.memoryMb,
        instances: app.instances,
      });
      await this.deployer.waitRunning(app.id, started, (line) => say(`       ${line}`));
    } catch (error) {
      await this.deployer.stopOnly(app.id, started, 'failed deploy').catch(() => undefined);
      const message = error instanceof DomainException ? error.message : (error as Error).message;
      return fail(message);
    }
    await this.appsRepo.setCurrentRelease(app.id, release.id);
    const old = await this.deployer.stopInstances(app.id, started, `replaced by release v${release.version}`);
    if (old.length) say(`-----> Stopping ${old.length} instance(s) of the previous release`);
    say(`-----> ${app.name} v${release.version} is live at ${this.apps.view(app).url}`);
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
      });
      return await done;
    } finally {
      sub.disconnect();
    }
  }
}
