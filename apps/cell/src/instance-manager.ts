import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  ROUTE_REFRESH_INTERVAL_MS,
  ROUTE_TTL_MS,
  allowsTransition,
  type InstanceState,
  type InstanceUsage,
  type RedisKeys,
  type StartInstanceJob,
} from '@paas/contracts';
import { appEnvironment } from './app-env';
import { launchCommand } from '@paas/buildpacks';
import { forgetInstance, registerEndpoint, reportInstance, unregisterEndpoint } from '@paas/redis';
import { VCAP_GID, VCAP_UID, type ContainerHandle, type ContainerRuntime, type ContainerStatus } from '@paas/runtime';
import type { CellConfig } from './config';
import type { DropletCache } from './droplet-cache';
import { passesHealthCheck } from './health-check';
import { EgressPolicy } from './egress-policy';
import { outputFiles, type LogShipper } from './log-shipper';
import { describeExit, withOutputTail } from './exit-reason';
import { actualOf, snapshotOf, type InstanceSnapshot, type LocalInstance } from './local-instance';
import { SERVICE_LABEL } from './services/service-containers';

export type { InstanceSnapshot } from './local-instance';

const CONTAINER_PORT = 8080;
const STOP_GRACE_MS = 10_000;

/** A running instance failing this many liveness checks in a row is treated as crashed. */
const LIVENESS_FAILURES = 3;

/**
 * The instances this cell runs: starts them as containers, health-checks them, publishes their
 * routes once healthy and refreshes them, notices crashes, stops them, and re-adopts them after
 * an agent restart.
 */
export class InstanceManager {
  private readonly instances = new Map<string, LocalInstance>();
  /** Instances being stopped (no longer in `instances`): their containers still exist, for the metrics. */
  private readonly stopping = new Map<string, LocalInstance>();
  private lastRefresh = 0;

  constructor(
    private readonly config: CellConfig,
    private readonly runtime: ContainerRuntime,
    private readonly droplets: DropletCache,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
    /** Ships the instances' output and lifecycle lines to their apps' logs; none in tests that do not look. */
    private readonly logs?: LogShipper,
    /** The platform allowances added to each instance's rules; none (only its rules) in tests that do not set one. */
    private readonly egress: EgressPolicy = new EgressPolicy({}),
  ) {}

  get count(): number {
    return this.instances.size;
  }

  /** Memory reserved by the instances of this cell (their limits), for placement. */
  get usedMemoryMb(): number {
    let total = 0;
    for (const i of this.instances.values()) total += i.job.memoryMb;
    return total;
  }

  /** The instances whose containers exist (STARTING with a container, or RUNNING), for the usage sampler. */
  sampleTargets(): Array<{ instanceId: string; containerId: string }> {
    return [...this.instances.values()]
      .filter((i) => i.handle && (i.state === 'STARTING' || i.state === 'RUNNING'))
      .map((i) => ({ instanceId: i.job.instanceId, containerId: i.containerId }));
  }

  /**
   * Stores a usage sample in the instance's record. Ignored once the instance stopped or crashed:
   * checked synchronously right before the write, which this cell's Redis connection sends ahead
   * of any later forget or final report, so a stopped instance's record is never brought back.
   */
  async recordUsage(instanceId: string, usage: InstanceUsage): Promise<void> {
    const local = this.instances.get(instanceId);
    if (!local || (local.state !== 'STARTING' && local.state !== 'RUNNING')) return;
    local.usage = usage;
    await this.report(local);
  }

  /** Every instance of the cell with its limits, for the metrics. */
  snapshot(): InstanceSnapshot[] {
    return [...this.instances.values(), ...this.stopping.values()].map(snapshotOf);
  }

  containerIdOf(instanceId: string): string {
    return `${this.config.containerPrefix}-${instanceId}`;
  }

  async start(job: StartInstanceJob): Promise<void> {
    if (this.instances.has(job.instanceId)) return; // a redelivered job: already ours
    if (this.instances.size >= this.config.maxContainers || this.usedMemoryMb + job.memoryMb > this.config.memoryMb) {
      // Placed on a stale view of this cell: refuse, so the convergence loop places it elsewhere.
      await reportInstance(this.redis, this.keys, {
        instanceId: job.instanceId,
        appId: job.appId,
        appName: job.appName,
        releaseId: job.releaseId,
        processType: job.processType,
        index: job.index,
        cellId: this.config.id,
        state: 'CRASHED',
        since: new Date().toISOString(),
        reason: `cell ${this.config.id} is full (${this.instances.size} containers, ${this.usedMemoryMb} MB used)`,
        crashCount: 0,
      });
      this.logs?.lifecycle(job, `Cell ${this.config.id} is full: instance ${job.index} of ${job.processType} is placed elsewhere`, 'ERR');
      return;
    }
    const local: LocalInstance = {
      job,
      containerId: this.containerIdOf(job.instanceId),
      state: 'STARTING',
      since: new Date().toISOString(),
    };
    this.instances.set(job.instanceId, local);
    await this.report(local);
    const log = this.logger.child({ app: job.appName, instance: job.instanceId, index: job.index });
    // Followed before the container exists, so a stop or crash (which finish it) always comes after.
    this.logs?.lifecycle(job, `Cell ${this.config.id} is starting instance ${job.index} of ${job.processType} (${job.instanceId})`);
    await this.logs?.follow(job, { resume: false });
    try {
      const layer = await this.droplets.fetch(job.dropletId, job.dropletUrl);
      const logDir = join(this.config.dataDir, 'logs');
      await mkdir(logDir, { recursive: true });
      const files = outputFiles(logDir, job.instanceId);
      const services = this.egress.boundServices(job.services);
      local.handle = await this.runtime.start({
        id: local.containerId,
        layers: [layer],
        command: launchCommand(job.startCommand),
        cwd: '/home/vcap/app',
        env: appEnvironment({ ...job, port: CONTAINER_PORT, services }),
        user: { uid: VCAP_UID, gid: VCAP_GID },
        memoryMb: job.memoryMb,
        diskMb: job.diskMb,
        ...(job.cpuMillicores !== undefined ? { cpuMillicores: job.cpuMillicores } : {}),
        pidsLimit: 1024,
        containerPort: CONTAINER_PORT,
        logFile: files.out,
        errorLogFile: files.err,
        labels: { job: JSON.stringify(job), since: local.since },
        egress: this.egress.running(job.egress, services),
      });
      this.watchExit(local);
      log.info({ container: local.containerId, hostPort: local.handle.hostPort }, 'instance-started');
      await this.waitHealthy(local);
      if (!this.instances.has(job.instanceId)) return; // stopped meanwhile
      if (!this.transition(local, 'RUNNING')) return;
      local.since = new Date().toISOString();
      await this.report(local);
      await this.publishRoutes(local);
      this.logs?.lifecycle(job, `Instance ${job.index} of ${job.processType} is healthy and running on cell ${this.config.id}`);
      log.info('instance-running');
      await this.exitedWhileRunning(local); // it may have ended between its last health check and now
    } catch (error) {
      log.warn({ err: error }, 'instance-failed-to-start');
      await this.crashed(local, (error as Error).message);
    }
  }

  /** Polls the instance's health check until it passes, the container exits (watchExit), or the timeout passes. */
  private async waitHealthy(local: LocalInstance): Promise<void> {
    const timeoutMs = local.job.healthCheck.timeoutS * 1000;
    const deadline = Date.now() + timeoutMs;
    const port = local.handle?.hostPort;
    if (!port) throw new Error('the container got no host port');
    while (Date.now() < deadline) {
      if (!this.instances.has(local.job.instanceId)) return;
      if (await passesHealthCheck(local.job.healthCheck, this.config.address, port)) return;
      if (local.exited) throw new Error(await this.exitReason(local, local.exited.status));
      await Promise.race([new Promise((r) => setTimeout(r, 200)), local.ended]);
    }
    const what = local.job.healthCheck.type === 'http' ? `answer 2xx on ${local.job.healthCheck.endpoint}` : `listen on $PORT (${CONTAINER_PORT})`;
    throw new Error(await withOutputTail(`the app did not ${what} within ${timeoutMs / 1000}s`, join(this.config.dataDir, 'logs'), local.job.instanceId, '; it printed nothing'));
  }

  /** "exited with status 3; its last log lines: ...": how it ended (kept in local.exit), then its output. */
  private exitReason(local: LocalInstance, status: ContainerStatus | undefined): Promise<string> {
    local.exit = { oomKilled: status?.oomKilled ?? false, ...(status?.exitStatus !== undefined ? { status: status.exitStatus } : {}) };
    return withOutputTail(describeExit(local.exit, local.job.memoryMb), join(this.config.dataDir, 'logs'), local.job.instanceId);
  }

  /** True when an instance of this cell runs the droplet. */
  usesDroplet(dropletId: string): boolean {
    return [...this.instances.values()].some((i) => i.job.dropletId === dropletId);
  }

  /** The droplets the instances of this cell run. */
  dropletsInUse(): Set<string> {
    return new Set([...this.instances.values()].map((i) => i.job.dropletId));
  }

  /** Moves an instance to a new state, refusing transitions the state machine does not allow. */
  private transition(local: LocalInstance, to: InstanceState): boolean {
    if (!allowsTransition(local.state, to)) {
      this.logger.warn({ instance: local.job.instanceId, from: local.state, to }, 'instance-transition-refused');
      return false;
    }
    local.state = to;
    return true;
  }

  /**
   * Follows the end of a started (or re-adopted) instance's container through the runtime's `wait`,
   * no polling: a RUNNING instance crashes at once (exitedWhileRunning); a STARTING one is failed
   * by waitHealthy, and start looks again once it made it RUNNING. Called once per container.
   */
  private watchExit(local: LocalInstance): void {
    local.ended = this.runtime.wait(local.containerId).then((status) => void (local.exited = { status }));
    // It never rejects (the runtime's contract); were it to, a running instance is left to its liveness check.
    void local.ended.then(() => this.exitedWhileRunning(local), (error: unknown) => this.logger.warn({ err: error, instance: local.job.instanceId }, 'instance-wait-failed'));
  }

  /** A RUNNING instance of this cell whose container ended has crashed; a no-op otherwise, so safe to call twice. */
  private async exitedWhileRunning(local: LocalInstance): Promise<void> {
    const exited = local.exited;
    if (!exited || local.state !== 'RUNNING' || this.instances.get(local.job.instanceId) !== local) return;
    await this.crashed(local, () => this.exitReason(local, exited.status)).catch((error: unknown) => this.logger.warn({ err: error, instance: local.job.instanceId }, 'instance-crash-report-failed'));
  }

  /** Takes the instance to CRASHED (synchronously, before any await: a second call is refused), then reports why. */
  private async crashed(local: LocalInstance, reason: string | (() => Promise<string>)): Promise<void> {
    if (!this.instances.has(local.job.instanceId)) return;
    if (!this.transition(local, 'CRASHED')) return;
    await this.withdrawRoutes(local);
    local.reason = typeof reason === 'string' ? reason : await reason();
    local.crashCount = (local.crashCount ?? 0) + 1;
    local.since = new Date().toISOString();
    await this.report(local);
    // Gone already after an exit; still running after a failed liveness check: stop it first.
    await this.runtime.stop(local.containerId, 2_000).catch(() => undefined);
    // Its last output first, then why it ended.
    await this.logs?.finish(local.job.instanceId, { text: `Instance ${local.job.index} of ${local.job.processType} crashed: ${local.reason}`, stream: 'ERR' });
    this.instances.delete(local.job.instanceId);
    await this.evictIfUnused(local.job.dropletId);
    // Crash recovery (restart with backoff) is the convergence loop's job; until then the record stays.
  }

  /** Frees a droplet's unpacked layer once no instance on this cell runs it. */
  private async evictIfUnused(dropletId: string): Promise<void> {
    if ([...this.instances.values()].some((i) => i.job.dropletId === dropletId)) return;
    await this.droplets.evict(dropletId).catch((error) => this.logger.warn({ err: error }, 'droplet-evict-failed'));
  }

  /** Stops every instance of `appId` on this cell (a deleted app's); how many there were. */
  async stopApp(appId: string, reason: string): Promise<number> {
    const ids = [...this.instances.values()].filter((i) => i.job.appId === appId).map((i) => i.job.instanceId);
    for (const instanceId of ids) await this.stop(instanceId, appId, reason);
    return ids.length;
  }

  /**
   * Stops an instance (routes first, then the container) and forgets it; safe for unknown ids.
   * From the moment it is taken until it is forgotten, its record says STOPPING with the reason:
   * not running any more, though its process may use its grace period (STOP_GRACE_MS). When the
   * stop fails the record stays STOPPING, and the convergence loop asks again.
   */
  async stop(instanceId: string, appId: string, reason: string): Promise<void> {
    const local = this.instances.get(instanceId);
    this.instances.delete(instanceId);
    if (local) await this.withdrawRoutes(local);
    if (local && this.transition(local, 'STOPPING')) {
      local.reason = reason;
      local.since = new Date().toISOString();
      this.stopping.set(instanceId, local);
      await this.write(local);
    }
    if (local) this.logs?.lifecycle(local.job, `Stopping instance ${local.job.index} of ${local.job.processType}: ${reason}`);
    try {
      await this.runtime.stop(local?.containerId ?? this.containerIdOf(instanceId), STOP_GRACE_MS);
    } finally {
      if (this.stopping.get(instanceId) === local) this.stopping.delete(instanceId);
    }
    // Shipped (with its last output) before the instance is forgotten: an app deleted next finds its log complete.
    if (local) await this.logs?.finish(instanceId, { text: `Instance ${local.job.index} of ${local.job.processType} stopped` });
    await forgetInstance(this.redis, this.keys, appId, instanceId);
    if (local) await this.evictIfUnused(local.job.dropletId);
    this.logger.info({ instance: instanceId, reason }, 'instance-stopped');
  }

  async stopAll(reason: string): Promise<void> {
    await Promise.all([...this.instances.values()].map((l) => this.stop(l.job.instanceId, l.job.appId, reason)));
  }

  /**
   * Re-adopts the instances' containers that survived an agent restart, without restarting them:
   * those of `containers` (the runtime's recover, when the agent read it once for every manager)
   * but the service instances' (labelled serviceInstanceId: the service manager's). Returns how many.
   */
  async recover(containers?: ContainerHandle[]): Promise<number> {
    const handles = (containers ?? (await this.runtime.recover())).filter((handle) => handle.labels[SERVICE_LABEL] === undefined);
    for (const handle of handles) {
      let job: StartInstanceJob;
      try {
        job = JSON.parse(handle.labels.job ?? '') as StartInstanceJob;
      } catch {
        await this.runtime.destroy(handle.id);
        continue;
      }
      const local: LocalInstance = {
        job,
        containerId: handle.id,
        state: 'RUNNING',
        handle,
        since: handle.labels.since ?? new Date().toISOString(),
      };
      this.instances.set(job.instanceId, local);
      await this.report(local);
      await this.publishRoutes(local);
      this.watchExit(local);
      // Resumes after the last line shipped before the restart: nothing repeated, nothing skipped.
      await this.logs?.follow(job, { resume: true });
      this.logs?.lifecycle(job, `Cell ${this.config.id} re-adopted instance ${job.index} of ${job.processType} after an agent restart`);
    }
    await this.logs?.forgetOthers();
    return handles.length;
  }

  /**
   * Makes the next `tick` refresh every healthy instance's endpoint and report, whatever the
   * cadence says: after Redis came back (possibly empty) the routers and the controller get the
   * actual state at once instead of within ROUTE_REFRESH_INTERVAL_MS. Safe to call any time.
   */
  refreshSoon(): void {
    this.lastRefresh = 0;
  }

  /**
   * Periodic (one at a time): notices unhealthy containers (exits come from watchExit); every
   * ROUTE_REFRESH_INTERVAL_MS also refreshes the endpoints and reports of the healthy ones.
   */
  async tick(now = Date.now()): Promise<void> {
    const refresh = now - this.lastRefresh >= ROUTE_REFRESH_INTERVAL_MS;
    if (refresh) this.lastRefresh = now;
    for (const local of [...this.instances.values()]) {
      if (local.state !== 'RUNNING') continue;
      // Liveness: the same check as at start; a few failures in a row make it a crash.
      if (local.job.healthCheck.type !== 'process' && local.handle?.hostPort) {
        const ok = await passesHealthCheck(local.job.healthCheck, this.config.address, local.handle.hostPort);
        local.failedChecks = ok ? 0 : (local.failedChecks ?? 0) + 1;
        if ((local.failedChecks ?? 0) >= LIVENESS_FAILURES) {
          const what = local.job.healthCheck.type === 'http' ? `GET ${local.job.healthCheck.endpoint}` : `port ${CONTAINER_PORT}`;
          await this.crashed(local, `health check failed ${LIVENESS_FAILURES} times in a row (${what})`);
          continue;
        }
      }
      if (refresh) {
        await this.publishRoutes(local);
        await this.report(local);
      }
    }
  }

  /** Registers (or refreshes) the endpoint of a healthy instance; the routers bind it to the app's routes. */
  private async publishRoutes(local: LocalInstance): Promise<void> {
    // Checked right before the write: a crash (which withdraws the routes after leaving RUNNING) always comes after it.
    if (!local.handle?.hostPort || local.state !== 'RUNNING' || this.instances.get(local.job.instanceId) !== local) return;
    await registerEndpoint(this.redis, this.keys, {
      instanceId: local.job.instanceId,
      appId: local.job.appId,
      processType: local.job.processType,
      index: local.job.index,
      address: `${this.config.address}:${local.handle.hostPort}`,
      cellId: this.config.id,
      expiresAt: Date.now() + ROUTE_TTL_MS,
    });
  }

  private async withdrawRoutes(local: LocalInstance): Promise<void> {
    await unregisterEndpoint(this.redis, this.keys, local.job.appId, local.job.processType, local.job.instanceId).catch(() => undefined);
  }

  /**
   * Writes the record of an instance this cell still holds. One that was stopped meanwhile (a
   * check or sample that was under way) is not written: its STOPPING record, or its absence once
   * forgotten, stands.
   */
  private async report(local: LocalInstance): Promise<void> {
    if (this.instances.get(local.job.instanceId) !== local) return;
    await this.write(local);
  }

  private async write(local: LocalInstance): Promise<void> {
    await reportInstance(this.redis, this.keys, actualOf(local, this.config));
  }
}
