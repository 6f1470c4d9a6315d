/**
 * Being retired (issue 14): specs run the real cell agent on the fake runtime (cell-agent.ts,
 * apps/cell/src/fake-behaviours.ts). Only deployments.integration-spec.ts still uses this, for
 * what the fake runtime does not script yet: a task that sleeps until stopped, an instance that
 * prints log lines before failing its health check (nobind), and the cross-cell journal.
 *
 * A cell that speaks the real contracts (its own BullMQ queue, presence, instance reports,
 * endpoints) but runs no containers: every instance is one small HTTP server of this process.
 * For API tests that need instances; the real cell is tested with real runc elsewhere.
 * Scripted: a start command containing `crash` makes the instance crash on start,
 * `crash-from-index-N` only its indexes N and above, `hang` leaves it STARTING (never healthy),
 * `nobind` reports the health-check failure a real cell reports (with log lines). A task
 * (`run-task`, the release phase) prints each `echo TEXT;` of its command, waits for a stop-task
 * when it has `sleep`, and exits with its `exit N` (0 without). `stageProcessTypes` adds process
 * types to what the fake buildpack reports (e.g. a Procfile `release:`); `journal` records, in
 * order across all fake cells, the tasks and instance starts. A buildpack named `failing` fails
 * staging; another named one is reported as the build's buildpack. `holdStaging` makes a stage job
 * hang (taken, never answered) until `releaseStaging()` or `stop()`; `pauseWork()` leaves new jobs
 * waiting in the cell's queue until `resumeWork()`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  CellJobName,
  forgetAppJobSchema,
  redisKeys,
  runTaskJobSchema,
  stageJobSchema,
  startInstanceJobSchema,
  stopInstanceJobSchema,
  stopTaskJobSchema,
  type RedisKeys,
  type InstanceUsage,
  type RunTaskJob,
  type StageJob,
  type StartInstanceJob,
} from '@paas/contracts';
import {
  announceCell,
  cellDrainAsked,
  createRedisConnection,
  expireCellPresence,
  forgetInstance,
  publishWorkEnd,
  publishWorkLine,
  readInstance,
  registerEndpoint,
  reportInstance,
  unregisterEndpoint,
  withdrawCell,
} from '@paas/redis';

/** Orders the journal entries of every fake cell of a test process. */
let journalSeq = 0;

export class FakeCell {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private worker?: Worker;
  private workerConnection?: Redis;
  private server?: Server;
  private heartbeat?: NodeJS.Timeout;
  readonly running = new Map<string, StartInstanceJob>();
  /** Process types the fake buildpack reports beside web, e.g. `{ release: 'echo migrated' }`. */
  stageProcessTypes: Record<string, string> = {};
  /** What this cell did, in order across every fake cell: `task-start`, `task-end`, `instance-start`. */
  readonly journal: Array<{ seq: number; what: 'task-start' | 'task-end' | 'task-stop' | 'instance-start'; appId: string; releaseId: string; id: string }> = [];
  /** Every task job this cell took. */
  readonly taskJobs: RunTaskJob[] = [];
  /** Every stage job this cell took. */
  readonly stageJobs: StageJob[] = [];
  /** App ids a forget-app job named. */
  readonly forgotten: string[] = [];
  private readonly stopRequests = new Set<string>();
  /** While true, a stage job is taken and left unanswered (as a cell whose build hangs). */
  holdStaging = false;
  private heldStages: Array<() => void> = [];

  constructor(
    readonly id: string,
    private readonly redisUrl: string,
    prefix: string,
    private readonly internalToken: string,
    private readonly maxContainers = 100,
    private readonly memoryMb = 65_536,
    readonly zone = 'z1',
  ) {
    this.redis = createRedisConnection(redisUrl, `fake-${id}`);
    this.keys = redisKeys(prefix);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => res.end(`fake instance on ${this.id}\n`));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    await this.announce();
    this.heartbeat = setInterval(() => void this.announce(), 2_000);
    this.startWorker();
  }

  private startWorker(): void {
    this.workerConnection = createRedisConnection(this.redisUrl, `fake-${this.id}-worker`);
    this.worker = new Worker(this.keys.cellQueue(this.id), (job) => this.handle(job), {
      connection: this.workerConnection,
      concurrency: 16,
    });
  }

  private async announce() {
    const draining = await cellDrainAsked(this.redis, this.keys, this.id);
    let used = 0;
    for (const job of this.running.values()) used += job.memoryMb;
    return announceCell(this.redis, this.keys, {
      id: this.id,
      address: '127.0.0.1',
      zone: this.zone,
      capacity: { memoryMb: this.memoryMb, maxContainers: this.maxContainers },
      instances: this.running.size,
      usedMemoryMb: used,
      state: draining ? 'draining' : 'live',
      startedAt: new Date(0).toISOString(),
    });
  }

  /** Writes a usage sample into a running instance's record, as a real cell's usage sampler does. */
  async reportUsage(instanceId: string, usage: InstanceUsage): Promise<void> {
    const job = this.running.get(instanceId);
    if (!job) throw new Error(`${instanceId} does not run on ${this.id}`);
    const recorded = await readInstance(this.redis, this.keys, job.appId, instanceId);
    if (!recorded) throw new Error(`no record of ${instanceId}`);
    await reportInstance(this.redis, this.keys, { ...recorded, usage });
  }

  /** Makes a running instance crash, as a real cell reports it. */
  async crash(instanceId: string, reason: string): Promise<void> {
    const job = this.running.get(instanceId);
    if (!job) throw new Error(`${instanceId} does not run on ${this.id}`);
    this.running.delete(instanceId);
    await unregisterEndpoint(this.redis, this.keys, job.appId, job.processType, instanceId);
    await reportInstance(this.redis, this.keys, {
      instanceId,
      appId: job.appId,
      appName: job.appName,
      releaseId: job.releaseId,
      processType: job.processType,
      index: job.index,
      cellId: this.id,
      state: 'CRASHED',
      reason,
      since: new Date().toISOString(),
      crashCount: 1,
    });
  }

  private async handle(job: Job): Promise<unknown> {
    switch (job.name) {
      case CellJobName.Stage: {
        const stage = stageJobSchema.parse(job.data);
        this.stageJobs.push(stage);
        if (this.holdStaging) {
          await new Promise<void>((resolve) => this.heldStages.push(resolve));
          return { ok: false, error: 'held by the test' };
        }
        const channel = this.keys.buildLog(stage.buildId);
        await publishWorkLine(this.redis, channel, '-----> fake buildpack');
        const put = await fetch(stage.dropletUploadUrl, {
          method: 'PUT',
          headers: { 'x-paas-internal-token': this.internalToken, 'content-type': 'application/octet-stream' },
          body: 'droplet',
        });
        const extra = Object.keys(this.stageProcessTypes).length ? { processTypes: { web: 'node server.js', ...this.stageProcessTypes } } : {};
        // Scripted: a buildpack named `failing` (manifest buildpacks or BUILDPACK) fails the build.
        if (stage.buildpack === 'failing') {
          await publishWorkLine(this.redis, channel, '       npm ERR! missing script: build');
          const failed = { ok: false, error: 'the failing buildpack failed: npm ERR! missing script: build' };
          await publishWorkEnd(this.redis, channel, failed);
          return failed;
        }
        const buildpack = stage.buildpack ?? 'fake';
        const result = put.ok ? { ok: true, buildpack, startCommand: 'node server.js', ...extra } : { ok: false, error: `upload ${put.status}` };
        await publishWorkEnd(this.redis, channel, result);
        return result;
      }
      case CellJobName.StartInstance: {
        const start = startInstanceJobSchema.parse(job.data);
        const base = {
          instanceId: start.instanceId,
          appId: start.appId,
          appName: start.appName,
          releaseId: start.releaseId,
          processType: start.processType,
          index: start.index,
          cellId: this.id,
          since: new Date().toISOString(),
          crashCount: 0,
          memoryMb: start.memoryMb,
          diskMb: start.diskMb,
        };
        this.journal.push({ seq: ++journalSeq, what: 'instance-start', appId: start.appId, releaseId: start.releaseId, id: start.instanceId });
        const crashFrom = /crash-from-index-(\d+)/.exec(start.startCommand);
        if (crashFrom && start.index < Number(crashFrom[1])) {
          // below the index: starts normally (falls through to the healthy path)
        } else if (start.startCommand.includes('crash')) {
          await reportInstance(this.redis, this.keys, { ...base, state: 'CRASHED', reason: 'the app exited: crash requested', crashCount: 1 });
          return { ok: false };
        }
        if (start.startCommand.includes('nobind')) {
          const reason = 'the app did not listen on $PORT (8080) within 1s; its last log lines: server starting | listening on port 3000';
          await reportInstance(this.redis, this.keys, { ...base, state: 'CRASHED', reason, crashCount: 1 });
          return { ok: false };
        }
        if (start.startCommand.includes('hang')) {
          this.running.set(start.instanceId, start);
          await reportInstance(this.redis, this.keys, { ...base, state: 'STARTING' });
          return { ok: true };
        }
        this.running.set(start.instanceId, start);
        const address = `127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
        await reportInstance(this.redis, this.keys, { ...base, state: 'RUNNING', address });
        await registerEndpoint(this.redis, this.keys, {
          instanceId: start.instanceId,
          appId: start.appId,
          processType: start.processType,
          index: start.index,
          address,
          cellId: this.id,
          expiresAt: Date.now() + 60_000,
        });
        return { ok: true };
      }
      case CellJobName.StopInstance: {
        const stop = stopInstanceJobSchema.parse(job.data);
        const known = this.running.get(stop.instanceId);
        this.running.delete(stop.instanceId);
        if (known) await unregisterEndpoint(this.redis, this.keys, known.appId, known.processType, stop.instanceId);
        await forgetInstance(this.redis, this.keys, stop.appId, stop.instanceId);
        return { ok: true };
      }
      case CellJobName.RunTask:
        return this.runTask(runTaskJobSchema.parse(job.data));
      case CellJobName.StopTask: {
        const stop = stopTaskJobSchema.parse(job.data);
        this.stopRequests.add(stop.taskId);
        return { ok: true };
      }
      case CellJobName.ForgetApp:
        this.forgotten.push(forgetAppJobSchema.parse(job.data).appId);
        return { ok: true };
      default:
        throw new Error(`fake cell has no handler for ${job.name}`);
    }
  }

  /** A scripted task: prints its `echo`s, waits for a stop when it has `sleep`, exits with its `exit N`. */
  private async runTask(task: RunTaskJob) {
    const startedAt = Date.now();
    const channel = this.keys.taskLog(task.taskId);
    this.taskJobs.push(task);
    this.journal.push({ seq: ++journalSeq, what: 'task-start', appId: task.appId, releaseId: task.releaseId, id: task.taskId });
    const lines: string[] = [];
    for (const match of task.command.matchAll(/echo ([^;]+)/g)) {
      lines.push(match[1].trim());
      await publishWorkLine(this.redis, channel, match[1].trim());
    }
    let stopped = false;
    if (/\bsleep\b/.test(task.command)) {
      const deadline = Date.now() + task.timeoutS * 1000;
      while (!this.stopRequests.has(task.taskId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      stopped = this.stopRequests.has(task.taskId);
      if (stopped) this.journal.push({ seq: ++journalSeq, what: 'task-stop', appId: task.appId, releaseId: task.releaseId, id: task.taskId });
    }
    const exitCode = stopped ? 143 : Number(/exit (\d+)/.exec(task.command)?.[1] ?? 0);
    const result = { exitCode, ...(stopped ? { reason: 'canceled' } : {}), lastLines: lines.slice(-10), durationMs: Date.now() - startedAt };
    this.journal.push({ seq: ++journalSeq, what: 'task-end', appId: task.appId, releaseId: task.releaseId, id: task.taskId });
    await publishWorkEnd(this.redis, channel, result);
    return result;
  }

  /** Vanishes like a cell whose VM died: no clean withdrawal, its presence just expires (or is removed by `lose`). */
  async lose(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.worker?.close();
    this.workerConnection?.disconnect();
    this.worker = undefined;
    await withdrawCell(this.redis, this.keys, this.id);
  }

  /**
   * Goes silent like a paused or dead host: no heartbeat, no work, no withdrawal; its presence is
   * left to expire, as if the last heartbeat had been a whole TTL ago (Redis expires it within
   * `afterMs`). `resume()` brings it back under the same id.
   */
  async expire(afterMs = 1): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.pauseWork();
    await expireCellPresence(this.redis, this.keys, this.id, afterMs);
  }

  /** Stops heartbeating only (a host paused briefly): its presence lives out its TTL; `resume()` goes on. */
  pauseHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Heartbeats and work again after `expire()` or `pauseHeartbeat()`. */
  async resume(): Promise<void> {
    await this.announce();
    this.heartbeat ??= setInterval(() => void this.announce(), 2_000);
    this.resumeWork();
  }

  /** Ends the held stage jobs (unanswered) and stops holding new ones. */
  releaseStaging(): void {
    this.holdStaging = false;
    for (const release of this.heldStages.splice(0)) release();
  }

  /** The cell takes no new job until resumeWork (they wait in its queue): its worker is closed. */
  async pauseWork(): Promise<void> {
    await this.worker?.close();
    this.workerConnection?.disconnect();
    this.worker = undefined;
  }

  resumeWork(): void {
    if (!this.worker) this.startWorker();
  }

  async stop(): Promise<void> {
    this.releaseStaging();
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.worker?.close();
    this.workerConnection?.disconnect();
    await withdrawCell(this.redis, this.keys, this.id).catch(() => undefined);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.redis.disconnect();
  }
}

/** Starts one fake cell per id on the harness's Redis; the test stops each with `stop()`. */
export async function startFakeCells(h: { redisUrl: string; redisPrefix: string; internalToken: string }, ids: readonly string[]): Promise<FakeCell[]> {
  const cells: FakeCell[] = [];
  for (const id of ids) {
    const cell = new FakeCell(id, h.redisUrl, h.redisPrefix, h.internalToken);
    await cell.start();
    cells.push(cell);
  }
  return cells;
}

export { pushThroughHook } from './push';
