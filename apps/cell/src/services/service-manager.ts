import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { SERVICE_CONTAINER_PORT, type RedisKeys, type RestoreServiceJob, type ServiceState, type StartServiceJob, type UpdateServiceJob } from '@paas/contracts';
import { forgetServiceState, reportServiceState } from '@paas/redis';
import { hostVcapUser, type ContainerHandle, type ContainerStatus } from '@paas/runtime';
import { describeExit, withOutputTail } from '../exit-reason';
import { portAnswers } from '../health-check';
import { outputFiles } from '../log-shipper';
import { isServerContainer, SERVICE_LABEL, serverSpec, serviceContainerIds, serviceLogDir } from './service-containers';
import { exclusively, knownService, reportOf, type LocalService, type ServiceHost, type ServiceManagerConfig } from './local-service';
import { settleInterruptedRestore } from './redis-restore';
import { initializeServerData } from './service-init';
import { ServiceRegistry, type ServiceRecord } from './service-registry';
import { restoreRedisSnapshot, type HeldServer } from './service-restore';
import { SERVERS } from './service-servers';

export type { ServiceHost, ServiceManagerConfig } from './local-service';

const STOP_GRACE_MS = 10_000;
/** Backoff before a crashed server starts again: 1, 2, 4 ... s, at most this. */
const MAX_BACKOFF_MS = 30_000;
/** A server that ran this long before it crashed starts again after the shortest backoff. */
const STABLE_AFTER_MS = 60_000;

/**
 * The service instances this cell runs (start-service / delete-service jobs): keeps them in its
 * registry (the truth on the cell), makes each one's volume on its first start and initialises
 * the server's data, runs the server in a runc container on its fixed host port, follows its end
 * (runtime.wait) and starts it again after a backoff, re-adopts the servers that survived an agent
 * restart (starting the registered ones that did not), and reports each one's ServiceState every
 * few seconds (tick). Contract: `recover` once at agent start, before any job; `tick` one at a time.
 */
export class ServiceManager {
  private readonly services = new Map<string, LocalService>();
  private readonly registry: ServiceRegistry;

  constructor(
    private readonly config: ServiceManagerConfig,
    private readonly host: ServiceHost,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {
    this.registry = new ServiceRegistry(join(config.servicesDir, 'registry'), config.servicePortRange);
  }

  get count(): number {
    return [...this.services.values()].filter((s) => s.handle).length;
  }

  /** The last error of the instance's server (why it crashed or failed), if any. */
  errorOf(serviceInstanceId: string): string | undefined {
    return this.services.get(serviceInstanceId)?.error;
  }

  /** Memory reserved by the servers (their limits; a failed one holds none), for placement. */
  get usedMemoryMb(): number {
    let total = 0;
    for (const s of this.services.values()) if (s.state !== 'failed') total += s.record.job.memoryMb;
    return total;
  }

  /**
   * Registers the instance (the same job again changes nothing) and starts its server; resolves
   * once that start ended (running, crashed or failed). A failed instance is tried again.
   */
  async start(job: StartServiceJob): Promise<ServiceState['state']> {
    let local = this.services.get(job.serviceInstanceId);
    if (!local) {
      const record = await this.registry.add(job);
      local = this.adopt(record);
      await this.launch(local);
    } else if (local.state === 'failed' && !local.launching) {
      await this.launch(local);
    } else {
      await local.launching;
    }
    return local.state;
  }

  /**
   * update-service: stops the server, grows the volume to diskMb (unmounted), records the new
   * sizes in the registry and starts the server again with the new memory limit. The data stays.
   * Resolves with how that start ended; throws, changing nothing, for an unknown instance or a
   * diskMb below the volume's (and when the grow fails: then the server starts again as it was).
   */
  async update(job: UpdateServiceJob): Promise<ServiceState['state']> {
    const local = knownService(this.services, job.serviceInstanceId, this.config.cellId);
    return exclusively(local, (l) => this.restartLater(l), async () => {
      const current = local.record.job;
      if (job.diskMb < current.diskMb) {
        throw new Error(`service instance ${current.serviceInstanceId} has a ${current.diskMb} MB volume and volumes never shrink: ${job.diskMb} MB is smaller (choose a plan with at least ${current.diskMb} MB of disk)`);
      }
      await this.stopServer(local);
      try {
        await this.host.volumes.grow(current.serviceInstanceId, job.diskMb);
        local.record = await this.registry.resize(current.serviceInstanceId, { memoryMb: job.memoryMb, diskMb: job.diskMb });
      } finally {
        local.crashes = 0;
        await this.launch(local);
      }
      this.logger.info({ service: current.serviceInstanceId, memoryMb: job.memoryMb, diskMb: job.diskMb }, 'service-resized');
      return local.state;
    });
  }

  /**
   * restore-service (Redis): downloads the backup (its size and sha256 checked: a wrong one
   * changes nothing), stops the server, puts the snapshot in place (redis-restore.ts) and starts
   * it again. Once it serves the snapshot the old data goes; when it does not within the start
   * timeout, the old data is put back and the server started on it, and this throws saying why.
   */
  async restore(job: RestoreServiceJob): Promise<ServiceState['state']> {
    const local = knownService(this.services, job.serviceInstanceId, this.config.cellId);
    const { kind, serviceInstanceId: id, diskMb } = local.record.job;
    if (kind !== 'redis') throw new Error(`service instance ${id} is a ${kind} one: a cell restores redis instances only (the controller restores postgres with pg_restore)`);
    if (job.sizeBytes > diskMb * 1024 * 1024) throw new Error(`the backup (${job.sizeBytes} bytes) does not fit the instance's ${diskMb} MB volume: not restored`);
    return exclusively(local, (l) => this.restartLater(l), async () => {
      const server: HeldServer = {
        stop: () => this.stopServer(local),
        start: () => {
          local.crashes = 0;
          return this.launch(local);
        },
        startServing: () => this.servesRestored(local),
        running: () => local.state === 'running',
        dataDir: () => this.host.volumes.prepare(id, diskMb, false),
      };
      const downloadDir = join(this.config.servicesDir, 'restores');
      await restoreRedisSnapshot(job, server, { downloadDir, download: (...args) => this.host.blobs.download(...args), owner: hostVcapUser(this.config.idMapping), logger: this.logger });
      return local.state;
    });
  }

  /** Stops and removes the server, its volume, registry entry and report, for good. Safe to repeat, also for unknown ids. */
  async delete(serviceInstanceId: string): Promise<void> {
    const local = this.services.get(serviceInstanceId);
    if (local) {
      local.ended = true;
      clearTimeout(local.restartTimer);
      await local.operation?.catch(() => undefined);
      await local.launching?.catch(() => undefined);
    }
    const ids = serviceContainerIds(this.config.containerPrefix, serviceInstanceId);
    await this.host.runtime.stop(ids.server, STOP_GRACE_MS);
    await this.host.runtime.destroy(ids.init);
    await this.host.volumes.remove(serviceInstanceId);
    await this.registry.remove(serviceInstanceId);
    if (this.services.get(serviceInstanceId) === local) this.services.delete(serviceInstanceId);
    const logs = outputFiles(serviceLogDir(this.config.servicesDir), serviceInstanceId);
    await Promise.all([rm(logs.out, { force: true }), rm(logs.err, { force: true })]);
    await forgetServiceState(this.redis, this.keys, serviceInstanceId);
    this.logger.info({ service: serviceInstanceId }, 'service-deleted');
  }

  /**
   * After an agent restart: re-adopts the servers among `containers` (runtime.recover) whose
   * instance is registered, removes the other service containers (an init cut short, an instance
   * deleted meanwhile), and starts every registered instance that has no server running. Does
   * not wait for them to accept connections. Returns how many were re-adopted.
   */
  async recover(containers: ContainerHandle[]): Promise<number> {
    let adopted = 0;
    for (const handle of containers) {
      const id = handle.labels[SERVICE_LABEL];
      if (id === undefined) continue;
      const record = /^[a-f0-9-]{8,36}$/.test(id) ? await this.registry.get(id) : undefined;
      if (!record || !isServerContainer(handle.labels) || this.services.has(id)) {
        await this.host.runtime.destroy(handle.id);
        continue;
      }
      const local = this.adopt(record);
      local.handle = handle;
      this.watchExit(local, handle);
      local.launching = this.untilAccepting(local, handle).finally(() => (local.launching = undefined));
      adopted++;
    }
    for (const record of await this.registry.list()) {
      if (this.services.has(record.job.serviceInstanceId)) continue;
      void this.launch(this.adopt(record));
    }
    return adopted;
  }

  /** Reports every instance (state, and its usage when it runs); called every few seconds. */
  async tick(): Promise<void> {
    for (const local of [...this.services.values()]) {
      if (local.ended) continue;
      if (local.state === 'running' && local.handle) {
        const { serviceInstanceId: id, kind } = local.record.job;
        const [stats, disk, connections] = await Promise.all([
          this.host.runtime.stats(local.containerId),
          this.host.volumes.usedBytes(id),
          this.host.probes.connections(local.handle.pid, SERVICE_CONTAINER_PORT[kind]),
        ]);
        local.memoryBytes = stats?.memoryBytes;
        local.diskUsedBytes = disk;
        local.connections = connections;
      }
      await this.report(local);
    }
  }

  /** The agent stops with cleanupOnExit: every server stops (the next start runs them again from the registry), the volumes are unmounted. */
  async stopAll(): Promise<void> {
    const all = [...this.services.values()];
    this.close();
    await Promise.all(all.map((l) => l.launching?.catch(() => undefined)));
    await Promise.all(
      all.map(async (local) => {
        await this.host.runtime.stop(local.containerId, STOP_GRACE_MS);
        await this.host.volumes.unmount(local.record.job.serviceInstanceId);
      }),
    );
  }

  /** The agent stops and leaves the servers running (re-adopted at its next start): nothing is restarted or reported any more. */
  close(): void {
    for (const local of this.services.values()) {
      local.ended = true;
      clearTimeout(local.restartTimer);
    }
  }

  private adopt(record: ServiceRecord): LocalService {
    const local: LocalService = {
      record,
      containerId: serviceContainerIds(this.config.containerPrefix, record.job.serviceInstanceId).server,
      state: 'starting',
      crashes: 0,
      ended: false,
      held: false,
    };
    this.services.set(record.job.serviceInstanceId, local);
    return local;
  }

  private launch(local: LocalService): Promise<void> {
    local.launching ??= this.startServer(local).finally(() => (local.launching = undefined));
    return local.launching;
  }

  /** One start: volume (and data) ready, server container started, then until it accepts connections. */
  private async startServer(local: LocalService): Promise<void> {
    const job = local.record.job;
    const log = this.logger.child({ service: job.serviceInstanceId, kind: job.kind });
    await this.setState(local, 'starting');
    let dataDir: string;
    try {
      const server = SERVERS[job.kind];
      if (!(await this.host.serverInstalled(server.binary))) {
        throw new Error(`this cell's host has no ${job.kind} server (${server.binary} is missing): ${server.install}`);
      }
      dataDir = await this.host.volumes.prepare(job.serviceInstanceId, job.diskMb, !local.record.initialized);
      if (!local.record.initialized && !local.ended) await this.initialize(local, dataDir);
      else if (job.kind === 'redis' && !local.held) {
        const settled = await settleInterruptedRestore(dataDir);
        if (settled.length) log.warn({ settled }, 'service-restore-leftovers-settled');
      }
    } catch (error) {
      log.warn({ err: error }, 'service-failed');
      await this.setState(local, 'failed', (error as Error).message);
      return;
    }
    if (local.ended) return;
    let handle: ContainerHandle;
    try {
      const logDir = serviceLogDir(this.config.servicesDir);
      await mkdir(logDir, { recursive: true, mode: 0o700 });
      handle = await this.host.runtime.start(serverSpec({ prefix: this.config.containerPrefix, record: local.record, dataDir, logFiles: outputFiles(logDir, job.serviceInstanceId) }));
    } catch (error) {
      log.warn({ err: error }, 'service-start-failed');
      await this.crashed(local, `its container did not start: ${(error as Error).message}`);
      return;
    }
    local.handle = handle;
    this.watchExit(local, handle);
    log.info({ container: handle.id, hostPort: local.record.hostPort }, 'service-started');
    await this.untilAccepting(local, handle);
  }

  /** First start: seeds the fresh volume and runs the kind's init (service-init.ts), then records it. */
  private async initialize(local: LocalService, dataDir: string): Promise<void> {
    const { containerPrefix: prefix, idMapping } = this.config;
    await initializeServerData(this.host.runtime, { prefix, idMapping, record: local.record, dataDir });
    await this.registry.markInitialized(local.record.job.serviceInstanceId);
    local.record = { ...local.record, initialized: true };
  }

  /** Polls the endpoint until the server accepts a TCP connection (running), its container ends (watchExit takes it), or the timeout. */
  private async untilAccepting(local: LocalService, handle: ContainerHandle): Promise<void> {
    const deadline = Date.now() + this.config.startTimeoutMs;
    while (Date.now() < deadline) {
      if (local.ended || local.handle !== handle) return;
      if (await portAnswers(this.config.address, local.record.hostPort, 500)) {
        local.runningSince = Date.now();
        await this.setState(local, 'running');
        this.logger.info({ service: local.record.job.serviceInstanceId }, 'service-running');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (local.ended || local.handle !== handle) return;
    const reason = `it did not accept connections within ${this.config.startTimeoutMs / 1000}s`;
    await this.crashed(local, await withOutputTail(reason, serviceLogDir(this.config.servicesDir), local.record.job.serviceInstanceId));
  }

  /** Follows the end of the server's container: a crash, unless it was stopped on purpose or replaced. */
  private watchExit(local: LocalService, handle: ContainerHandle): void {
    void this.host.runtime.wait(handle.id).then(async (status: ContainerStatus | undefined) => {
      if (local.ended || local.handle !== handle) return;
      const exit = { oomKilled: status?.oomKilled ?? false, ...(status?.exitStatus !== undefined ? { status: status.exitStatus } : {}) };
      const reason = await withOutputTail(describeExit(exit, local.record.job.memoryMb), serviceLogDir(this.config.servicesDir), local.record.job.serviceInstanceId);
      await this.crashed(local, reason);
    });
  }

  /**
   * Reports the crash, removes the container (its data stays on the volume) and starts the server
   * again after the backoff (unless an update or restore holds it: that one starts it).
   */
  private crashed(local: LocalService, reason: string): Promise<void> {
    if (local.ended) return Promise.resolve();
    const ranMs = local.runningSince === undefined ? 0 : Date.now() - local.runningSince;
    local.crashes = ranMs >= STABLE_AFTER_MS ? 1 : local.crashes + 1;
    local.handle = undefined;
    local.runningSince = undefined;
    local.memoryBytes = undefined;
    local.connections = undefined;
    this.logger.warn({ service: local.record.job.serviceInstanceId, reason, crashes: local.crashes }, 'service-crashed');
    const crashing = (async () => {
      await this.setState(local, 'crashed', reason);
      await this.host.runtime.destroy(local.containerId).catch((error: unknown) => this.logger.warn({ err: error }, 'service-destroy-failed'));
      if (!local.ended && !local.held) this.restartLater(local);
    })().finally(() => {
      if (local.crashing === crashing) local.crashing = undefined;
    });
    local.crashing = crashing;
    return crashing;
  }

  private restartLater(local: LocalService): void {
    clearTimeout(local.restartTimer);
    const backoffMs = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (Math.max(1, local.crashes) - 1));
    local.restartTimer = setTimeout(() => {
      if (!local.ended && !local.held) void this.launch(local);
    }, backoffMs);
  }

  /** Stops the server on purpose (its end is no crash), after any start or crash in progress; the next launch starts it again. */
  private async stopServer(local: LocalService): Promise<void> {
    clearTimeout(local.restartTimer);
    await local.launching?.catch(() => undefined);
    await local.crashing;
    local.handle = undefined;
    local.runningSince = undefined;
    local.memoryBytes = undefined;
    local.connections = undefined;
    await this.host.runtime.stop(local.containerId, STOP_GRACE_MS);
    await this.setState(local, 'starting');
  }

  /**
   * After a restore: starts the server and waits until it serves its protocol (ServiceProbes).
   * Undefined when it does; otherwise why not (how it ended, with its last log lines).
   */
  private async servesRestored(local: LocalService): Promise<string | undefined> {
    const deadline = Date.now() + this.config.startTimeoutMs;
    local.crashes = 0;
    await this.launch(local);
    while (Date.now() < deadline && local.handle && !local.ended) {
      if (local.state === 'running' && (await this.host.probes.serverAnswers(local.record, this.config.address))) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await local.crashing;
    if (local.state === 'crashed' || local.state === 'failed') return local.error ?? `it ${local.state}`;
    return withOutputTail(`it did not serve within ${this.config.startTimeoutMs / 1000}s`, serviceLogDir(this.config.servicesDir), local.record.job.serviceInstanceId);
  }

  private async setState(local: LocalService, state: ServiceState['state'], error?: string): Promise<void> {
    local.state = state;
    local.error = error;
    await this.report(local);
  }

  /** Writes the instance's report; a Redis outage is logged (the next tick writes it again). */
  private async report(local: LocalService): Promise<void> {
    if (local.ended) return;
    await reportServiceState(this.redis, this.keys, reportOf(local, this.config)).catch((error: unknown) => this.logger.warn({ err: error }, 'service-report-failed'));
  }
}
