/**
 * A cell that speaks the real contracts (its own BullMQ queue, presence, instance reports,
 * endpoints) but runs no containers: every instance is one small HTTP server of this process.
 * For API tests that need instances; the real cell is tested with real runc elsewhere.
 * Scripted: a start command containing `crash` makes the instance crash on start.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  CellJobName,
  redisKeys,
  stageJobSchema,
  startInstanceJobSchema,
  stopInstanceJobSchema,
  type RedisKeys,
  type StartInstanceJob,
} from '@paas/contracts';
import { announceCell, createRedisConnection, forgetInstance, registerEndpoint, reportInstance, unregisterEndpoint, withdrawCell } from '@paas/redis';

export class FakeCell {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private worker?: Worker;
  private workerConnection?: Redis;
  private server?: Server;
  private heartbeat?: NodeJS.Timeout;
  readonly running = new Map<string, StartInstanceJob>();

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
    this.workerConnection = createRedisConnection(this.redisUrl, `fake-${this.id}-worker`);
    this.worker = new Worker(this.keys.cellQueue(this.id), (job) => this.handle(job), {
      connection: this.workerConnection,
      concurrency: 16,
    });
  }

  private async announce() {
    const draining = (await this.redis.exists(this.keys.cellDrain(this.id))) === 1;
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
        const channel = this.keys.buildLog(stage.buildId);
        await this.redis.publish(channel, JSON.stringify({ type: 'line', text: '-----> fake buildpack' }));
        const put = await fetch(stage.dropletUploadUrl, {
          method: 'PUT',
          headers: { 'x-paas-internal-token': this.internalToken, 'content-type': 'application/octet-stream' },
          body: 'droplet',
        });
        const result = put.ok ? { ok: true, buildpack: 'fake', startCommand: 'node server.js' } : { ok: false, error: `upload ${put.status}` };
        await this.redis.publish(channel, JSON.stringify({ type: 'end', result }));
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
        };
        if (start.startCommand.includes('crash')) {
          await reportInstance(this.redis, this.keys, { ...base, state: 'CRASHED', reason: 'the app exited: crash requested', crashCount: 1 });
          return { ok: false };
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
      default:
        throw new Error(`fake cell has no handler for ${job.name}`);
    }
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

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.worker?.close();
    this.workerConnection?.disconnect();
    await withdrawCell(this.redis, this.keys, this.id).catch(() => undefined);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.redis.disconnect();
  }
}

/** Pushes a (fake) commit through the same internal endpoint the git hook uses; returns the streamed log. */
export async function pushThroughHook(url: string, internalToken: string, app: string, actor: { userId: string; name: string; isAdmin: boolean }) {
  const res = await fetch(`${url}/internal/v1/apps/${app}/builds?commit=0123456789abcdef`, {
    method: 'POST',
    headers: {
      'x-paas-internal-token': internalToken,
      'content-type': 'application/x-tar',
      'x-paas-actor': Buffer.from(JSON.stringify(actor)).toString('base64'),
    },
    body: 'not really a tar',
  });
  const text = await res.text();
  return { ok: text.trim().endsWith('PAAS-RESULT ok'), text };
}
