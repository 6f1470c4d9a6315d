import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  CELL_HEARTBEAT_INTERVAL_MS,
  CellJobName,
  deleteServiceJobSchema,
  forgetAppJobSchema,
  redisKeys,
  restoreServiceJobSchema,
  runTaskJobSchema,
  stageJobSchema,
  startInstanceJobSchema,
  startServiceJobSchema,
  stopInstanceJobSchema,
  stopTaskJobSchema,
  updateServiceJobSchema,
  type RedisKeys,
  type StageResult,
} from '@paas/contracts';
import { AppLogWriter, announceCell, cellDrainAsked, createRedisConnection, endCellDrain, markCellDrained, publishWorkEnd, publishWorkLine, withdrawCell } from '@paas/redis';
import { BlobClient } from './blob-client';
import type { CellHost } from './cell-host';
import type { CellConfig } from './config';
import { DropletCache } from './droplet-cache';
import { EgressPolicy } from './egress-policy';
import { InstanceManager } from './instance-manager';
import { LogShipper } from './log-shipper';
import { CellMetrics, startMetricsServer, type MetricsServer } from './metrics-server';
import { UsageSampler } from './usage-sampler';
import { Stager } from './stager';
import { TaskRunner } from './task-runner';
import { ServiceManager } from './services/service-manager';

const MONITOR_INTERVAL_MS = 2_000;
/** How often the service instances' reports are refreshed (their TTL is SERVICE_STATE_TTL_S). */
const SERVICE_REPORT_INTERVAL_MS = 5_000;


/** The folders of a cell's data dir that hold tenants' things (build caches, unpacked droplets, staging work, app output). */
const CELL_TENANT_DIRS = ['build-cache', 'droplets', 'staging', 'logs'];
/**
 * One cell: announces itself, takes work from its own queue (one handler per job name), runs
 * instances through the container runtime of its host (injected: runc in main.ts, or the fake),
 * and shuts down cleanly.
 */
export class CellAgent {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly instances: InstanceManager;
  private readonly stager: Stager;
  private readonly droplets: DropletCache;
  private readonly tasks: TaskRunner;
  private readonly services: ServiceManager;
  private readonly appLogs: AppLogWriter;
  private readonly shipper: LogShipper;
  private worker?: Worker;
  private workerConnection?: Redis;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly startedAt = new Date().toISOString();
  private draining = false;
  private operatorDrain = false;
  private readonly usage: UsageSampler;
  private readonly egress: EgressPolicy;
  private metricsServer?: MetricsServer;
  /** Stage jobs in progress (for the metrics). */
  private staging = 0;
  /** Stagings in progress by build id: a stage job never runs twice at once for one build. */
  private readonly stagings = new Map<string, Promise<StageResult>>();

  constructor(
    private readonly config: CellConfig,
    private readonly logger: Logger,
    /** Its container runtime and host setup (see cell-host.ts: runcHost, fakeHost). */
    private readonly host: CellHost,
  ) {
    this.redis = createRedisConnection(config.redisUrl, `cell-${config.id}`);
    this.keys = redisKeys(config.redisPrefix);
    const runtime = host.runtime;
    this.egress = new EgressPolicy({
      gateway: config.subnet.replace(/\.0\/24$/, '.1'),
      npmRegistry: config.npmRegistry,
      routerAddress: config.routerAddress,
    });
    const blobs = new BlobClient(config.internalToken);
    this.droplets = new DropletCache(join(config.dataDir, 'droplets'), blobs, config.idMapping);
    this.appLogs = new AppLogWriter(this.redis, this.keys, {
      settings: config.appLogs,
      rateLimit: { ratePerSecond: config.appLogs.ratePerSecond, burst: config.appLogs.burst },
      markerSource: 'CELL/0',
      markerWhere: `cell ${config.id}`,
      onError: (err) => logger.warn({ err }, 'app-log-write-failed'),
    });
    this.shipper = new LogShipper(this.appLogs, this.redis, this.keys, logger, { logDir: join(config.dataDir, 'logs'), cellId: config.id });
    const egress = this.egress;
    this.instances = new InstanceManager(config, runtime, this.droplets, this.redis, this.keys, logger, this.shipper, egress);
    this.usage = new UsageSampler(runtime, this.instances, logger);
    this.tasks = new TaskRunner(runtime, this.droplets, config.containerPrefix, logger, (dropletId) => this.instances.usesDroplet(dropletId), egress);
    this.services = new ServiceManager(
      {
        cellId: config.id,
        address: config.address,
        containerPrefix: config.containerPrefix,
        servicesDir: config.servicesDir,
        servicePortRange: config.servicePortRange,
        idMapping: config.idMapping,
        startTimeoutMs: config.startTimeoutMs,
      },
      { runtime, volumes: host.serviceVolumes, serverInstalled: (binary) => host.serverInstalled(binary), probes: host.serviceProbes, blobs },
      this.redis,
      this.keys,
      logger,
    );
    this.stager = new Stager(runtime, blobs, config.dataDir, config.containerPrefix, logger, {
      buildpacksDir: config.buildpacksDir,
      npmRegistry: config.npmRegistry,
      nodeVersionsToKeep: config.nodeVersionsToKeep,
      idMapping: config.idMapping,
      egress,
    });
  }

  async start(): Promise<void> {
    // Redis back after an outage (maybe restarted empty): presence, endpoints and instance reports
    // are written again at once; the monitor loop takes the refresh on its next tick.
    let lost = false;
    this.redis.on('close', () => (lost = true));
    this.redis.on('ready', () => {
      if (!lost) return;
      lost = false;
      this.logger.info({ event: 'redis-connection-restored' }, 'redis is back: re-reporting presence, instances and endpoints');
      this.instances.refreshSoon();
      void this.heartbeat();
    });
    // Containers run as unprivileged host uids (see CELL_USERNS_HOST_ID): they must traverse the data
    // dir and the folders that hold their layers, mounts and logs, but no one but root lists them (a
    // local user, or a process that broke out of a container, finds no other tenant's app there).
    for (const dir of [this.config.dataDir, ...CELL_TENANT_DIRS.map((name) => join(this.config.dataDir, name))]) {
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o711);
    }
    this.egress.setNameservers(await this.host.prepare());
    // The runtime's containers are read once, and each manager takes its own.
    const containers = await this.host.runtime.recover();
    const recovered = await this.instances.recover(containers);
    if (recovered) this.logger.info({ recovered }, 'containers-re-adopted');
    // Registered service instances run again (re-adopted, or started when their server is gone).
    const services = await this.services.recover(containers);
    if (services) this.logger.info({ services }, 'service-containers-re-adopted');
    this.shipper.start();
    // Layers of instances that stopped while the agent was down are used by nothing now.
    const stale = await this.droplets.removeAllExcept(this.instances.dropletsInUse());
    if (stale.length) this.logger.info({ droplets: stale.length }, 'stale-droplets-removed');
    await this.heartbeat();
    this.workerConnection = createRedisConnection(this.config.redisUrl, `cell-${this.config.id}-worker`);
    this.worker = new Worker(this.keys.cellQueue(this.config.id), (job) => this.handle(job), {
      connection: this.workerConnection,
      concurrency: 8,
      // Staging may hold a job for minutes; the lock is renewed while the handler runs.
      lockDuration: 60_000,
    });
    this.worker.on('failed', (job, error) => this.logger.warn({ job: job?.id, err: error }, 'job-failed'));
    this.timers.push(setInterval(() => void this.heartbeat(), CELL_HEARTBEAT_INTERVAL_MS));
    this.usage.start(this.config.usageIntervalMs);
    let reporting = false;
    this.timers.push(
      setInterval(() => {
        if (reporting) return;
        reporting = true;
        void this.services
          .tick()
          .catch((e) => this.logger.warn({ err: e }, 'service-tick-failed'))
          .finally(() => (reporting = false));
      }, SERVICE_REPORT_INTERVAL_MS),
    );
    if (this.config.metricsPort) await this.startMetrics();
    // One monitor loop (crashes, liveness); it refreshes the routes at their own, slower cadence.
    let ticking = false;
    this.timers.push(
      setInterval(() => {
        if (ticking) return;
        ticking = true;
        void this.instances
          .tick()
          .catch((e) => this.logger.warn({ err: e }, 'tick-failed'))
          .finally(() => (ticking = false));
      }, MONITOR_INTERVAL_MS),
    );
    this.logger.info({ cell: this.config.id, address: this.config.address }, 'cell-started');
  }

  /** The Prometheus server (CELL_METRICS_PORT): reads the agent's own state at each scrape. */
  private async startMetrics(): Promise<void> {
    const metrics = new CellMetrics({
      cellId: this.config.id,
      capacity: { memoryMb: this.config.memoryMb, maxContainers: this.config.maxContainers },
      instances: () => this.instances.snapshot(),
      usage: (instanceId) => this.usage.latest(instanceId),
      reservedMemoryMb: () => this.usedMemoryMb,
      tasksRunning: () => this.tasks.count,
      stagingRunning: () => this.staging,
      draining: () => this.draining || this.operatorDrain,
      failedSamples: () => this.usage.failedSamples,
    });
    this.metricsServer = await startMetricsServer(this.config.metricsHost, this.config.metricsPort, metrics.registry, this.logger);
    this.logger.info({ url: `http://${this.config.metricsHost}:${this.metricsServer.port}/metrics` }, 'cell-metrics-listening');
  }

  private async heartbeat(): Promise<void> {
    try {
      // An operator's drain (API) lasts while its key exists; a SIGTERM drain lasts until exit.
      const asked = await cellDrainAsked(this.redis, this.keys, this.config.id);
      if (asked !== this.operatorDrain) this.logger.info({ draining: asked }, asked ? 'cell-draining' : 'cell-undrained');
      this.operatorDrain = asked;
      await announceCell(this.redis, this.keys, {
        id: this.config.id,
        address: this.config.address,
        zone: this.config.zone,
        capacity: { memoryMb: this.config.memoryMb, maxContainers: this.config.maxContainers },
        instances: this.instances.count + this.tasks.count + this.services.count,
        usedMemoryMb: this.usedMemoryMb,
        state: this.draining || this.operatorDrain ? 'draining' : 'live',
        startedAt: this.startedAt,
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'cell-heartbeat-failed');
    }
  }

  /** Memory reserved by instances, tasks and service instances (their limits), for placement. */
  private get usedMemoryMb(): number {
    return this.instances.usedMemoryMb + this.tasks.usedMemoryMb + this.services.usedMemoryMb;
  }

  /** One handler per job name; payloads are validated where they enter the cell. */
  private async handle(job: Job): Promise<unknown> {
    switch (job.name as CellJobName) {
      case CellJobName.Stage: {
        const payload = stageJobSchema.parse(job.data);
        const channel = this.keys.buildLog(payload.buildId);
        const say = (text: string) => void publishWorkLine(this.redis, channel, text);
        // The same build's job again (queued anew after Redis lost it) joins the staging in progress.
        let staging = this.stagings.get(payload.buildId);
        if (!staging) {
          this.staging++;
          staging = this.stager.stage(payload, say).finally(() => {
            this.staging--;
            this.stagings.delete(payload.buildId);
          });
          this.stagings.set(payload.buildId, staging);
        }
        const result = await staging;
        await publishWorkEnd(this.redis, channel, result);
        return result;
      }
      case CellJobName.StartInstance:
        await this.instances.start(startInstanceJobSchema.parse(job.data));
        return { ok: true };
      case CellJobName.StopInstance: {
        const payload = stopInstanceJobSchema.parse(job.data);
        await this.instances.stop(payload.instanceId, payload.appId, payload.reason);
        return { ok: true };
      }
      case CellJobName.RunTask: {
        const payload = runTaskJobSchema.parse(job.data);
        const channel = this.keys.taskLog(payload.taskId);
        const say = (text: string) => void publishWorkLine(this.redis, channel, text);
        const result = await this.tasks.run(payload, say);
        await publishWorkEnd(this.redis, channel, result);
        return result;
      }
      case CellJobName.StopTask: {
        const payload = stopTaskJobSchema.parse(job.data);
        return { ok: true, stopped: await this.tasks.stop(payload.taskId, payload.reason) };
      }
      case CellJobName.ForgetApp: {
        // The app was deleted: its build cache goes (its droplets went with its instances), and an
        // instance of it still here (started while the delete ran) is stopped, not left orphaned.
        const payload = forgetAppJobSchema.parse(job.data);
        const stopped = await this.instances.stopApp(payload.appId, 'app deleted');
        await rm(join(this.config.dataDir, 'build-cache', payload.appId), { recursive: true, force: true });
        this.logger.info({ app: payload.appId, stopped }, 'app-forgotten');
        return { ok: true };
      }
      case CellJobName.StartService:
        return { ok: true, state: await this.services.start(startServiceJobSchema.parse(job.data)) };
      case CellJobName.DeleteService:
        await this.services.delete(deleteServiceJobSchema.parse(job.data).serviceInstanceId);
        return { ok: true };
      case CellJobName.UpdateService:
        return this.serviceResult(await this.services.update(updateServiceJobSchema.parse(job.data)), job.data);
      case CellJobName.RestoreService:
        return this.serviceResult(await this.services.restore(restoreServiceJobSchema.parse(job.data)), job.data);
      default:
        throw new Error(`cell ${this.config.id} has no handler for job ${job.name}`);
    }
  }

  /** An update's or restore's result: how the server's start after it ended (`error`: why it does not run). */
  private serviceResult(state: string, data: { serviceInstanceId: string }): { ok: boolean; state: string; error?: string } {
    const error = state === 'running' ? undefined : this.services.errorOf(data.serviceInstanceId);
    return { ok: state === 'running', state, ...(error ? { error } : {}) };
  }

  /**
   * Drain (SIGTERM on a real host): announce `draining` so nothing new is placed here and the
   * convergence loop starts this cell's instances elsewhere, then stops them here; wait (bounded)
   * until none is left, then shut down.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    await markCellDrained(this.redis, this.keys, this.config.id, 3600).catch(() => undefined);
    await this.heartbeat();
    const deadline = Date.now() + timeoutMs;
    // Running tasks (a release command) get the same time to finish.
    while (this.instances.count + this.tasks.count > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    if (this.instances.count > 0) this.logger.warn({ left: this.instances.count }, 'drain-timed-out');
    else this.logger.info('cell-drained');
    await endCellDrain(this.redis, this.keys, this.config.id).catch(() => undefined);
  }

  /**
   * Stops taking work; with cleanupOnExit also stops every container and removes the network.
   * Every step runs even when an earlier one fails (logged), so the network is always removed.
   */
  async shutdown(): Promise<void> {
    const step = async (name: string, fn: () => Promise<unknown> | undefined) => {
      try {
        await fn();
      } catch (error) {
        this.logger.warn({ err: error, step: name }, 'shutdown-step-failed');
      }
    };
    for (const t of this.timers) clearInterval(t);
    await step('usage', () => this.usage.stop());
    await step('metrics', () => this.metricsServer?.close());
    // Before closing the worker: it waits for running jobs, and a task may run for minutes.
    await step('tasks', () => this.tasks.stopAll('the cell shut down'));
    await step('worker', () => this.worker?.close());
    this.workerConnection?.disconnect();
    await step('presence', () => withdrawCell(this.redis, this.keys, this.config.id));
    this.services.close();
    // Service instances stay registered: the next start runs them again (re-adopts them without cleanupOnExit).
    if (this.config.cleanupOnExit) {
      // Instances first: their sessions end before the servers they use shut down.
      await step('instances', () => this.instances.stopAll('cell shutting down'));
      await step('services', () => this.services.stopAll());
      await step('network', () => this.host.cleanup());
    }
    // What was read goes out with its checkpoints; containers left running resume from them.
    await step('log-shipper', () => this.shipper.close());
    await step('app-logs', () => this.appLogs.close());
    this.redis.disconnect();
    this.logger.info('cell-stopped');
  }
}
