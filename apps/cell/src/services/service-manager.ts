import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisKeys, ServiceState, StartServiceJob } from '@paas/contracts';
import { forgetServiceState, reportServiceState } from '@paas/redis';
import { hostVcapUser, type ContainerHandle, type ContainerRuntime, type ContainerStatus, type IdMapping } from '@paas/runtime';
import { describeExit, withOutputTail } from '../exit-reason';
import { portAnswers } from '../health-check';
import { outputFiles } from '../log-shipper';
import { logTail } from '../log-tail';
import { initSpec, isServerContainer, SERVICE_LABEL, serverSpec, serviceContainerIds, serviceLogDir } from './service-containers';
import { ServiceRegistry, type ServiceRecord } from './service-registry';
import { SERVERS } from './service-servers';
import type { ServiceVolumes } from './service-volumes';

const STOP_GRACE_MS = 10_000;
const INIT_TIMEOUT_MS = 120_000;
/** Backoff before a crashed server starts again: 1, 2, 4 ... s, at most this. */
const MAX_BACKOFF_MS = 30_000;
/** A server that ran this long before it crashed starts again after the shortest backoff. */
const STABLE_AFTER_MS = 60_000;

export interface ServiceManagerConfig {
  cellId: string;
  /** CELL_ADDRESS: where the controller and apps reach the host ports (the reports' host). */
  address: string;
  containerPrefix: string;
  /** The registry, the logs and (for LoopVolumes) the volumes live here. */
  servicesDir: string;
  servicePortRange: [number, number];
  idMapping: IdMapping;
  /** How long a server may take to accept connections before it counts as crashed. */
  startTimeoutMs: number;
}

/** What the manager needs of its host besides the runtime: the volumes, and whether a server's binary is there. */
export interface ServiceHost {
  runtime: ContainerRuntime;
  volumes: ServiceVolumes;
  serverInstalled(binary: string): Promise<boolean>;
}

interface LocalService {
  record: ServiceRecord;
  containerId: string;
  state: ServiceState['state'];
  error?: string;
  /** The server's container while it runs (or starts). */
  handle?: ContainerHandle;
  /** Crashes in a row, for the backoff. */
  crashes: number;
  runningSince?: number;
  restartTimer?: NodeJS.Timeout;
  /** The start in progress. */
  launching?: Promise<void>;
  /** Deleted, or the agent stops: nothing restarts or reports it any more. */
  ended: boolean;
  memoryBytes?: number;
  diskUsedBytes?: number;
}

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

  /** Stops and removes the server, its volume, registry entry and report, for good. Safe to repeat, also for unknown ids. */
  async delete(serviceInstanceId: string): Promise<void> {
    const local = this.services.get(serviceInstanceId);
    if (local) {
      local.ended = true;
      clearTimeout(local.restartTimer);
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
      if (local.state === 'running') {
        const id = local.record.job.serviceInstanceId;
        const [stats, disk] = await Promise.all([this.host.runtime.stats(local.containerId), this.host.volumes.usedBytes(id)]);
        local.memoryBytes = stats?.memoryBytes;
        local.diskUsedBytes = disk;
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

  /** First start: seeds the fresh volume (admin password file, ACL file), runs the kind's init container, then records it. */
  private async initialize(local: LocalService, dataDir: string): Promise<void> {
    const job = local.record.job;
    const vcap = hostVcapUser(this.config.idMapping);
    // A fresh filesystem that nothing has run on yet: no link planted there to follow.
    for (const [name, content] of Object.entries(SERVERS[job.kind].seedFiles(job))) {
      const path = join(dataDir, name);
      await rm(path, { force: true });
      await writeFile(path, content, { mode: 0o600, flag: 'wx' });
      await chown(path, vcap.uid, vcap.gid).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPERM') throw error; // the fake runtime's cell may run unprivileged
      });
    }
    const spec = initSpec({ prefix: this.config.containerPrefix, record: local.record, dataDir, logFiles: { out: '/dev/null', err: '/dev/null' } });
    if (spec) {
      const lines: string[] = [];
      try {
        const result = await this.host.runtime.run(spec, { timeoutMs: INIT_TIMEOUT_MS, onLine: (line) => lines.push(line) });
        if (result.exitCode !== 0 || result.reason) {
          const how = result.reason === 'timeout' ? `did not finish within ${INIT_TIMEOUT_MS / 1000}s` : result.reason === 'oom' ? 'ran out of memory' : `exited with status ${result.exitCode}`;
          const tail = logTail(lines.join('\n'), 10).join(' | ');
          throw new Error(`initialising the ${job.kind} data ${how}${tail ? `: ${tail}` : ''}`);
        }
      } finally {
        await this.host.runtime.destroy(spec.id);
      }
    }
    await this.registry.markInitialized(job.serviceInstanceId);
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

  /** Reports the crash, removes the container (its data stays on the volume) and starts the server again after the backoff. */
  private async crashed(local: LocalService, reason: string): Promise<void> {
    if (local.ended) return;
    const ranMs = local.runningSince === undefined ? 0 : Date.now() - local.runningSince;
    local.crashes = ranMs >= STABLE_AFTER_MS ? 1 : local.crashes + 1;
    local.handle = undefined;
    local.runningSince = undefined;
    local.memoryBytes = undefined;
    this.logger.warn({ service: local.record.job.serviceInstanceId, reason, crashes: local.crashes }, 'service-crashed');
    await this.setState(local, 'crashed', reason);
    await this.host.runtime.destroy(local.containerId).catch((error: unknown) => this.logger.warn({ err: error }, 'service-destroy-failed'));
    if (local.ended) return;
    const backoffMs = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (local.crashes - 1));
    local.restartTimer = setTimeout(() => {
      if (!local.ended) void this.launch(local);
    }, backoffMs);
  }

  private async setState(local: LocalService, state: ServiceState['state'], error?: string): Promise<void> {
    local.state = state;
    local.error = error;
    await this.report(local);
  }

  /** Writes the instance's report; a Redis outage is logged (the next tick writes it again). */
  private async report(local: LocalService): Promise<void> {
    if (local.ended) return;
    const state: ServiceState = {
      serviceInstanceId: local.record.job.serviceInstanceId,
      cellId: this.config.cellId,
      state: local.state,
      host: this.config.address,
      port: local.record.hostPort,
      ...(local.error !== undefined ? { error: local.error } : {}),
      ...(local.diskUsedBytes !== undefined ? { diskUsedBytes: local.diskUsedBytes } : {}),
      ...(local.memoryBytes !== undefined ? { memoryBytes: local.memoryBytes } : {}),
      at: new Date().toISOString(),
    };
    await reportServiceState(this.redis, this.keys, state).catch((error: unknown) => this.logger.warn({ err: error }, 'service-report-failed'));
  }
}
