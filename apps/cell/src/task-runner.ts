import type { Logger } from 'pino';
import { APP_DIR, launchCommand } from '@paas/buildpacks';
import type { RunTaskJob, RunTaskResult } from '@paas/contracts';
import { VCAP_GID, VCAP_UID, type ContainerRuntime } from '@paas/runtime';
import { appEnvironment } from './app-env';
import type { DropletCache } from './droplet-cache';
import { EgressPolicy } from './egress-policy';
import { LineRing } from './log-tail';

/** How long a stopped task gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** How long stop() waits for a task still fetching its droplet or preparing its container to start. */
const STOP_WAIT_MS = 15_000;
/** Lines of output a result carries back. */
const RESULT_LINES = 10;

interface RunningTask {
  containerId: string;
  memoryMb: number;
  dropletId: string;
  /** Set by stop(): why the task was stopped. */
  stopped?: string;
  /** Resolves when run() is done with the task. */
  done: Promise<void>;
}

/**
 * Runs one-off tasks (the release phase) on this cell: the release's droplet as the read-only
 * layer, the app's env contract without PORT, the process's memory and disk limits, no host port;
 * run to completion with its output streamed line by line. The droplet layer is pinned while the
 * task runs (an instance crash never evicts it under the task) and evicted afterwards unless an
 * instance of this cell uses it.
 *
 * Contract: run() is called once per task id (a second call while it runs is refused); stop() is
 * safe to call twice, before run() got going, and for a task that ended or never ran here.
 */
export class TaskRunner {
  private readonly running = new Map<string, RunningTask>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly droplets: DropletCache,
    private readonly containerPrefix: string,
    private readonly logger: Logger,
    /** True when an instance of this cell runs the droplet (its layer must stay). */
    private readonly dropletInUse: (dropletId: string) => boolean,
    /** The platform allowances added to each task's rules (default: none). */
    private readonly egress: EgressPolicy = new EgressPolicy({}),
  ) {}

  get count(): number {
    return this.running.size;
  }

  /** Memory reserved by running tasks (their limits), for the cell's heartbeat. */
  get usedMemoryMb(): number {
    let total = 0;
    for (const t of this.running.values()) total += t.memoryMb;
    return total;
  }

  usesDroplet(dropletId: string): boolean {
    return [...this.running.values()].some((t) => t.dropletId === dropletId);
  }

  containerIdOf(taskId: string): string {
    return `${this.containerPrefix}-task-${taskId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 24)}`;
  }

  async run(job: RunTaskJob, onLine: (line: string) => void): Promise<RunTaskResult> {
    const startedAt = Date.now();
    const ring = new LineRing();
    const result = (fields: Omit<RunTaskResult, 'lastLines' | 'durationMs'>): RunTaskResult => ({
      ...fields,
      lastLines: ring.tail(RESULT_LINES),
      durationMs: Date.now() - startedAt,
    });
    if (this.running.has(job.taskId)) return result({ exitCode: -1, reason: 'error', error: `task ${job.taskId} already runs on this cell` });
    let finish!: () => void;
    const task: RunningTask = {
      containerId: this.containerIdOf(job.taskId),
      memoryMb: job.memoryMb,
      dropletId: job.dropletId,
      done: new Promise<void>((resolve) => (finish = resolve)),
    };
    this.running.set(job.taskId, task);
    this.droplets.pin(job.dropletId);
    const log = this.logger.child({ app: job.appName, task: job.taskId, type: job.processType });
    try {
      const layer = await this.droplets.fetch(job.dropletId, job.dropletUrl);
      if (task.stopped) return result({ exitCode: -1, reason: 'canceled' });
      log.info({ container: task.containerId, command: job.command }, 'task-started');
      const services = this.egress.boundServices(job.services);
      const outcome = await this.runtime.run(
        {
          id: task.containerId,
          layers: [layer],
          // As an instance starts: in the app's folder, after .profile.d and .profile.
          command: launchCommand(job.command),
          cwd: APP_DIR,
          env: appEnvironment({
            appId: job.appId,
            appName: job.appName,
            spaceId: job.spaceId,
            spaceName: job.spaceName,
            orgName: job.orgName,
            uris: job.uris,
            index: 0,
            instanceId: job.taskId,
            memoryMb: job.memoryMb,
            diskMb: job.diskMb,
            processType: job.processType,
            env: job.env,
            services,
          }),
          user: { uid: VCAP_UID, gid: VCAP_GID },
          memoryMb: job.memoryMb,
          diskMb: job.diskMb,
          ...(job.cpuMillicores !== undefined ? { cpuMillicores: job.cpuMillicores } : {}),
          pidsLimit: 1024,
          egress: this.egress.running(job.egress, services),
        },
        {
          timeoutMs: job.timeoutS * 1000,
          onLine: (line) => {
            ring.push(line);
            onLine(line);
          },
        },
      );
      const reason = task.stopped ? 'canceled' : outcome.reason;
      log.info({ exitCode: outcome.exitCode, reason }, 'task-ended');
      return result({ exitCode: outcome.exitCode, ...(reason ? { reason } : {}) });
    } catch (error) {
      log.warn({ err: error }, 'task-failed-to-run');
      if (task.stopped) return result({ exitCode: -1, reason: 'canceled' });
      return result({ exitCode: -1, reason: 'error', error: (error as Error).message });
    } finally {
      this.running.delete(job.taskId);
      this.droplets.unpin(job.dropletId);
      if (!this.dropletInUse(job.dropletId) && !this.usesDroplet(job.dropletId)) {
        await this.droplets.evict(job.dropletId).catch((error) => log.warn({ err: error }, 'droplet-evict-failed'));
      }
      finish();
    }
  }

  /**
   * Stops a task: SIGTERM, then SIGKILL after a grace period; its run() then reports `canceled`.
   * A task still fetching its droplet or preparing its container is stopped as soon as it runs
   * (or never starts). Returns false when no such task runs here.
   */
  async stop(taskId: string, reason: string): Promise<boolean> {
    const task = this.running.get(taskId);
    if (!task) return false;
    task.stopped ??= reason;
    this.logger.info({ task: taskId, reason }, 'task-stopping');
    const deadline = Date.now() + STOP_WAIT_MS;
    while (this.running.get(taskId) === task) {
      const status = await this.runtime.inspect(task.containerId).catch(() => undefined);
      if (status?.state === 'running') {
        await this.runtime.stop(task.containerId, STOP_GRACE_MS).catch((error) => this.logger.warn({ err: error, task: taskId }, 'task-stop-failed'));
        break;
      }
      if (Date.now() > deadline) break;
      await Promise.race([task.done, new Promise((r) => setTimeout(r, 100))]);
    }
    return true;
  }

  /** Stops every running task (cell shutdown). */
  async stopAll(reason: string): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id, reason)));
  }
}
