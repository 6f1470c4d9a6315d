import { Inject, Injectable } from '@nestjs/common';
import { logSource, runTaskResultSchema, type RunTaskJob, type RunTaskResult } from '@paas/contracts';
import { cellPresent, listLiveCells, subscribeWhenReady } from '@paas/redis';
import { placeInstance } from '@paas/scheduling';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import { RedisService } from '../platform/redis/redis.module';
import { AppLogsService } from '../platform/app-logs/app-logs.service';
import { CellQueuesService } from '../placement/cell-queues.service';
import type { InstanceSpec } from '../placement/instances.service';
import { CanceledError } from './cancel-watch';
import { SecurityGroupsService } from '../security-groups/security-groups.service';
import { releaseCommandFailure, releaseCommandSucceeded } from './deploy-reports';

/** How long a release command may run (Heroku gives its release phase an hour; 10 minutes keeps a stuck deploy short). */
export const RELEASE_COMMAND_TIMEOUT_S = 600;
/** Beyond the command's timeout: time for the cell to fetch the droplet and report the end. */
const CELL_REPORT_GRACE_MS = 120_000;
/** How often the cell running the command is checked for presence. */
const LIVENESS_CHECK_MS = 5_000;
/** After a stop-task, how long to wait for the cell to report the stopped command's end. */
const STOP_WAIT_MS = 20_000;

type Say = (line: string) => void;

/** Why a wait for the task's end stopped early. */
type Interrupted = { interrupted: 'aborted' } | { interrupted: 'lost'; message: string };

/**
 * The release phase (Heroku's `release:` Procfile entry): runs the release's command once, as a
 * one-off task (`run-task` job) on a live cell with room for the web process's memory, with the
 * release's droplet and env; relays its output to the deployment's `say` and resolves when it
 * exits 0. Throws ReleaseCommandFailed (with its exit code and last lines) otherwise, or the
 * signal's CanceledError when the deployment is canceled meanwhile (the task is stopped first).
 */
@Injectable()
export class ReleasePhaseService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly redis: RedisService,
    private readonly queues: CellQueuesService,
    private readonly appLogs: AppLogsService,
    private readonly securityGroups: SecurityGroupsService,
  ) {}

  /** `taskId` is the deployment's id: the job id derives from it, so a deployment never runs its command twice. */
  async run(taskId: string, web: InstanceSpec, command: string, say: Say, signal: AbortSignal): Promise<void> {
    const cells = await listLiveCells(this.redis.redis, this.redis.keys);
    const choice = placeInstance(cells, web.memoryMb, { perCell: new Map(), perZone: new Map() });
    if ('reason' in choice) throw new DomainException(ErrorCode.NoCellAvailable, `no cell can run the release command: ${choice.reason}`);
    const cellId = choice.cell.id;
    const job: RunTaskJob = {
      taskId,
      appId: web.appId,
      appName: web.appName,
      spaceId: web.spaceId,
      spaceName: web.spaceName,
      orgName: web.orgName,
      releaseId: web.releaseId,
      processType: 'release',
      dropletId: web.dropletId,
      dropletUrl: web.dropletUrl,
      command,
      memoryMb: web.memoryMb,
      diskMb: web.diskMb,
      ...(web.cpuMillicores !== undefined ? { cpuMillicores: web.cpuMillicores } : {}),
      timeoutS: RELEASE_COMMAND_TIMEOUT_S,
      env: web.env,
      uris: web.uris,
      egress: await this.securityGroups.rulesFor(web.spaceId, 'running'),
      ...(web.services ? { services: web.services } : {}),
    };
    say(`-----> Running release command: ${command}`);
    // The app's log gets the command and its output as APP/TASK/RELEASE/0.
    const appLog = (text: string, stream: 'OUT' | 'ERR' = 'OUT') => this.appLogs.append(web.appId, logSource.task('release'), stream, text);
    appLog(`Running release command on cell ${cellId}: ${command}`);
    const log = this.logger.child({ app: web.appName, task: taskId, cell: cellId });
    const sub = this.redis.duplicate(`task-log-${taskId}`);
    try {
      const ended = this.endOf(sub, taskId, (line) => {
        say(`       ${line}`);
        appLog(line);
      });
      await subscribeWhenReady(sub, this.redis.keys.taskLog(taskId));
      if (signal.aborted) throw signal.reason as Error;
      await this.queues.runTask(cellId, job);
      log.info({ command }, 'release-command-queued');
      const outcome = await this.waitForEnd(ended, cellId, signal, RELEASE_COMMAND_TIMEOUT_S * 1000 + CELL_REPORT_GRACE_MS);
      if ('interrupted' in outcome) {
        if (outcome.interrupted === 'lost') throw new DomainException(ErrorCode.ReleaseCommandFailed, outcome.message);
        // Canceled: stop the command on its cell and wait (bounded) until it is gone.
        const by = signal.reason instanceof CanceledError ? signal.reason.by : 'someone';
        await this.queues.stopTask(cellId, { taskId, reason: `deployment canceled by ${by}` });
        const stopped = await Promise.race([ended, new Promise<undefined>((r) => setTimeout(() => r(undefined), STOP_WAIT_MS).unref())]);
        say(stopped ? '       (release command stopped)' : `       (release command asked to stop on cell ${cellId})`);
        throw signal.reason as Error;
      }
      log.info({ exitCode: outcome.exitCode, reason: outcome.reason, ms: outcome.durationMs }, 'release-command-ended');
      if (!releaseCommandSucceeded(outcome)) {
        const failure = releaseCommandFailure(outcome, RELEASE_COMMAND_TIMEOUT_S);
        appLog(failure, 'ERR');
        throw new DomainException(ErrorCode.ReleaseCommandFailed, failure);
      }
      appLog(`Release command succeeded in ${(outcome.durationMs / 1000).toFixed(1)}s`);
      say(`-----> Release command succeeded in ${(outcome.durationMs / 1000).toFixed(1)}s`);
    } finally {
      sub.disconnect();
    }
  }

  /** The task's end message on its channel; every line before it goes to `onLine`. */
  private endOf(sub: ReturnType<RedisService['duplicate']>, taskId: string, onLine: (line: string) => void): Promise<RunTaskResult> {
    return new Promise<RunTaskResult>((resolve) => {
      sub.on('message', (_channel: string, message: string) => {
        try {
          const event = JSON.parse(message) as { type: string; text?: unknown; result?: unknown };
          if (event.type === 'line' && typeof event.text === 'string') onLine(event.text);
          if (event.type === 'end') {
            const parsed = runTaskResultSchema.safeParse(event.result);
            resolve(
              parsed.success
                ? parsed.data
                : { exitCode: -1, reason: 'error', error: `the cell sent an invalid result for task ${taskId}`, lastLines: [], durationMs: 0 },
            );
          }
        } catch {
          // A malformed message is skipped.
        }
      });
    });
  }

  /** The task's end, or why waiting for it stopped: canceled, the cell gone, or no report in time. */
  private waitForEnd(ended: Promise<RunTaskResult>, cellId: string, signal: AbortSignal, timeoutMs: number): Promise<RunTaskResult | Interrupted> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (value: RunTaskResult | Interrupted) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearInterval(liveness);
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onAbort = () => finish({ interrupted: 'aborted' });
      const deadline = setTimeout(
        () => finish({ interrupted: 'lost', message: `cell ${cellId} did not report the end of the release command within ${Math.round(timeoutMs / 1000)}s` }),
        timeoutMs,
      );
      const liveness = setInterval(() => {
        void cellPresent(this.redis.redis, this.redis.keys, cellId)
          .then((present) => {
            if (!present) finish({ interrupted: 'lost', message: `cell ${cellId} stopped while it ran the release command: deploy again` });
          })
          .catch(() => undefined);
      }, LIVENESS_CHECK_MS);
      void ended.then(finish);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
    });
  }
}
