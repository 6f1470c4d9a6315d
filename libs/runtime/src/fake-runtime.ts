import type {
  ContainerHandle,
  ContainerRuntime,
  ContainerSpec,
  ContainerStats,
  ContainerStatus,
  RunOptions,
  RunResult,
} from './container-runtime';
import { appendFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { closeAppServer, listenAsApp } from './fake-app-server';
import { parseSubnet, type Subnet } from './network';
import { allocateIp, allocatePort, claimPort } from './port-allocator';
import { CommandFailedError, RuntimeError, RuntimeErrorCode } from './runtime-error';
import { validateContainerSpec } from './spec-validation';
import type { FakeContainer, FakeJournalEntry, FakeRuntimeConfig } from './fake-runtime-config';

export type { FakeContainer, FakeJournalEntry, FakeRuntimeConfig };

/**
 * Address and port held for a `start`/`run` in progress; `cancelled` once destroy() was called
 * meanwhile; `running` while a foreground container runs (its pid and what stops it).
 */
interface Reservation {
  ip: string;
  hostPort?: number;
  cancelled: boolean;
  running?: { pid: number; stop: AbortController; spec: ContainerSpec };
}

/** What runc reports for a foreground container that a stop's SIGTERM ended. */
const STOPPED_RUN_EXIT = 143;

const FIRST_PID = 10_000;

/**
 * An in-memory ContainerRuntime, scripted through its config, for scheduler and cell tests that
 * need hundreds of cells without runc, root or a network. It keeps RuncRuntime's contract:
 *
 * - `start(spec)` and `run(spec)`: once per id. The spec is validated as RuncRuntime does
 *   (InvalidSpec); an id that exists, or is still starting, is AlreadyExists. A scripted failure
 *   rejects with a CommandFailedError from `runc` and frees everything, so the id can be reused.
 *   A `stop`/`destroy` that arrives while `start` is waiting on startLatencyMs wins: `start`
 *   rejects and nothing is left behind.
 * - Addresses and host ports are allocated with RuncRuntime's own allocators: lowest free address
 *   of the /24, host port after the last one handed out (so a just-freed port is not reused at
 *   once); NoFreeAddress / NoFreePort when exhausted. A host port only when containerPort is set;
 *   a spec's fixed hostPort is taken as it is, PortInUse when another container holds it.
 * - `inspect(id)`: undefined for an unknown (or destroyed) id; 'running' until the scripted exit
 *   time or a `stop`/`kill`, then 'stopped' with oomKilled and exitStatus as scripted. A stopped container keeps
 *   its address and port until `destroy`, as a real one does. A foreground container (`run`) reads
 *   'running' while its script runs; `stop`/`destroy` then end it (run resolves with 143).
 * - `wait(id)`: resolves at the container's scripted exit (see `now`), its `kill`, or its
 *   `stop`/`destroy` (then undefined); at once when it already stopped or does not exist. The
 *   server of a container (serveOn) closes at the same moments.
 * - `stats(id)`: while running, what `usageFor` scripts (0 without it); undefined otherwise.
 * - `stop(id, graceMs)` and `destroy(id)`: safe to call twice, concurrently and on ids that never
 *   existed; both free the address and port at once (the fake never waits out graceMs).
 * - `recover()`: meant to be called once when an agent starts, before its first `start`. Share one
 *   FakeRuntime between an agent and its "restarted" successor to simulate a restart: running
 *   containers (of the prefix) are returned with their handles and labels, stopped ones are
 *   destroyed, exactly as RuncRuntime does.
 *
 * Beyond the interface, `kill(id)` makes a container die now (as a crash or the OOM killer would),
 * `checkExits()` resolves the waits of scripted exits an injected clock reached, and `list()`
 * shows what exists; all are for tests.
 */
export class FakeRuntime implements ContainerRuntime {
  private readonly containers = new Map<string, FakeContainer>();
  /** Ids reserved by a `start`/`run` still in progress, with its allocation (to be freed on failure). */
  private readonly starting = new Map<string, Reservation>();
  private readonly subnet: Subnet;
  private readonly portRange: [number, number];
  private readonly now: () => number;
  private portCursor: number | undefined;
  private allocationLock: Promise<unknown> = Promise.resolve();
  private nextPid = FIRST_PID;
  /** Pending `wait`s per id, resolved together when the container stops or goes. */
  private readonly waiters = new Map<string, Array<(status: ContainerStatus | undefined) => void>>();
  /** The timer of each scripted exit (default clock only). */
  private readonly exitTimers = new Map<string, NodeJS.Timeout>();
  /** The HTTP server of each running container (serveOn). */
  private readonly servers = new Map<string, Server>();

  constructor(private readonly config: FakeRuntimeConfig = {}) {
    this.subnet = parseSubnet(config.subnet ?? '10.254.0.0/24');
    const base = config.hostPortBase ?? 61_000;
    const count = config.hostPortCount ?? 1_000;
    if (!(Number.isInteger(base) && Number.isInteger(count) && base >= 1 && count >= 1 && base + count - 1 <= 65_535)) {
      throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `host ports ${base}+${count} must lie within 1-65535`);
    }
    if (config.prefix !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(config.prefix)) {
      throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `prefix "${config.prefix}" must be [a-z0-9-]`);
    }
    this.portRange = [base, base + count - 1];
    this.now = config.now ?? Date.now;
  }

  async start(spec: ContainerSpec): Promise<ContainerHandle> {
    const reserved = await this.reserve(spec);
    try {
      await this.latency();
      const failure = this.config.failStartFor?.(spec);
      if (failure !== undefined) throw new CommandFailedError('runc', ['run', '--detach', spec.id], 1, failure);
      if (reserved.cancelled) throw new CommandFailedError('runc', ['run', '--detach', spec.id], 1, `container ${spec.id} was destroyed while starting`);
      const handle: ContainerHandle = {
        id: spec.id,
        ip: reserved.ip,
        hostPort: reserved.hostPort,
        pid: this.nextPid++,
        labels: { ...(spec.labels ?? {}) },
      };
      if (this.config.serveOn !== undefined && handle.hostPort !== undefined && (this.config.listensFor?.(spec) ?? true)) {
        const exit = (how: { status: number; oom: boolean }) => this.kill(spec.id, how);
        const server = await listenAsApp(this.config.serveOn, handle.hostPort, `fake container ${spec.id}\n`, exit).catch((error: Error) => {
          throw new CommandFailedError('runc', ['run', '--detach', spec.id], 1, `host port ${handle.hostPort}: ${error.message}`);
        });
        if (reserved.cancelled) {
          closeAppServer(server);
          throw new CommandFailedError('runc', ['run', '--detach', spec.id], 1, `container ${spec.id} was destroyed while starting`);
        }
        this.servers.set(spec.id, server);
      }
      const output = this.config.outputFor?.(spec) ?? [];
      if (output.length > 0 && spec.logFile !== undefined) appendFileSync(spec.logFile, output.map((line) => `${line}\n`).join(''));
      const startedAt = this.now();
      const oom = this.config.oomFor?.(spec) ?? false;
      const crashAfter = this.config.crashAfterMs?.(spec) ?? (oom ? 0 : undefined);
      this.containers.set(spec.id, {
        spec,
        handle,
        startedAt,
        scriptedExit: crashAfter === undefined ? undefined : { at: startedAt + crashAfter, oom, status: this.config.exitStatusFor?.(spec) ?? (oom ? 137 : 1) },
      });
      if (crashAfter !== undefined && this.config.now === undefined) this.armExit(spec.id, startedAt + crashAfter);
      this.config.journal?.({ what: 'start', spec });
      return { ...handle, labels: { ...handle.labels } };
    } finally {
      this.starting.delete(spec.id);
    }
  }

  /** Staging: fails as start does; else what runFor answers; else exit code 137 with reason 'oom' when oomFor, 1 when crashAfterMs, 0 otherwise. Leaves nothing behind. */
  async run(spec: ContainerSpec, options: RunOptions): Promise<RunResult> {
    const reserved = await this.reserve(spec);
    try {
      await this.latency();
      const failure = this.config.failStartFor?.(spec);
      if (failure !== undefined) throw new CommandFailedError('runc', ['run', spec.id], 1, failure);
      if (reserved.cancelled) return { exitCode: 137 };
      const stop = new AbortController();
      reserved.running = { pid: this.nextPid++, stop, spec };
      this.config.journal?.({ what: 'run', spec });
      const stopped = new Promise<RunResult>((resolve) => stop.signal.addEventListener('abort', () => resolve({ exitCode: STOPPED_RUN_EXIT }), { once: true }));
      // A stopped container prints nothing more, whatever its script still does.
      const output: RunOptions = { ...options, onLine: (line, stream) => void (stop.signal.aborted || options.onLine(line, stream)) };
      const result = await Promise.race([this.scriptedRun(spec, output, stop.signal), stopped]);
      reserved.running = undefined;
      this.config.journal?.({ what: 'run-end', spec, result });
      return result;
    } finally {
      this.starting.delete(spec.id);
    }
  }

  /** A foreground container's part: what runFor answers, else the defaults run's comment names. */
  private async scriptedRun(spec: ContainerSpec, options: RunOptions, stopped: AbortSignal): Promise<RunResult> {
    const scripted = await this.config.runFor?.(spec, options, stopped);
    if (scripted) return scripted;
    if (this.config.oomFor?.(spec)) {
      options.onLine('Killed', 'stderr');
      return { exitCode: 137, reason: 'oom' };
    }
    if (this.config.crashAfterMs?.(spec) !== undefined) {
      options.onLine(`${spec.command.join(' ')}: exited with 1`, 'stderr');
      return { exitCode: 1 };
    }
    return { exitCode: 0 };
  }

  async inspect(id: string): Promise<ContainerStatus | undefined> {
    const container = this.containers.get(id);
    if (!container) {
      const reserved = this.starting.get(id);
      if (reserved?.running) return { id, state: 'running', pid: reserved.running.pid, oomKilled: false };
      // Like RuncRuntime: allocated but not yet a runc container reads as stopped.
      return reserved ? { id, state: 'stopped', oomKilled: false } : undefined;
    }
    const exit = this.exitOf(container);
    if (exit === undefined) return { id, state: 'running', pid: container.handle.pid, oomKilled: false };
    return { id, state: 'stopped', oomKilled: exit.oom, exitStatus: exit.status };
  }

  async wait(id: string): Promise<ContainerStatus | undefined> {
    const container = this.containers.get(id);
    if (!container || this.exitOf(container) !== undefined) return this.inspect(id);
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }

  /**
   * Settles container `id` at its scripted exit `at` (default clock only). A timer may fire a
   * moment before Date.now() reaches `at` (timers keep their own clock): it is armed again for
   * what is left, so a wait never misses the exit.
   */
  private armExit(id: string, at: number): void {
    const timer = setTimeout(() => {
      this.exitTimers.delete(id);
      if (this.containers.has(id) && this.now() < at) this.armExit(id, at);
      else this.checkExits();
    }, Math.max(0, at - this.now()));
    timer.unref();
    this.exitTimers.set(id, timer);
  }

  /** Test control: resolves the waits of containers whose scripted exit time `now()` has reached. Safe to call any time. */
  checkExits(): void {
    for (const id of new Set([...this.waiters.keys(), ...this.servers.keys()])) {
      const container = this.containers.get(id);
      if (!container || this.exitOf(container) !== undefined) this.settle(id);
    }
  }

  /** The container `id` stopped or went: its server closes, every pending wait resolves with what inspect says now. */
  private settle(id: string): void {
    closeAppServer(this.servers.get(id));
    this.servers.delete(id);
    const waiters = this.waiters.get(id);
    if (!waiters) return;
    this.waiters.delete(id);
    void this.inspect(id).then((status) => {
      for (const resolve of waiters) resolve(status);
    });
  }

  /** Undefined unless running; else the scripted usage (usageFor, CPU capped by the quota) and the spec's limits. */
  async stats(id: string): Promise<ContainerStats | undefined> {
    const container = this.containers.get(id);
    if (!container || this.exitOf(container) !== undefined) return undefined;
    const usage = this.config.usageFor?.(container.spec, this.now() - container.startedAt) ?? {};
    const quotaNanos = container.spec.cpuMillicores === undefined ? Infinity : (this.now() - container.startedAt) * 1000 * container.spec.cpuMillicores;
    return {
      cpuNanos: Math.min(usage.cpuNanos ?? 0, quotaNanos),
      memoryBytes: usage.memoryBytes ?? 0,
      memoryLimitBytes: container.spec.memoryMb * 1024 * 1024,
      diskBytes: usage.diskBytes ?? 0,
      ...(container.spec.diskMb !== undefined ? { diskLimitBytes: container.spec.diskMb * 1024 * 1024 } : {}),
    };
  }

  async stop(id: string, _graceMs: number): Promise<void> {
    if (this.config.stopLatencyMs && this.containers.has(id)) await new Promise((r) => setTimeout(r, this.config.stopLatencyMs));
    await this.destroy(id);
  }

  async destroy(id: string): Promise<void> {
    const starting = this.starting.get(id);
    const container = this.containers.get(id);
    const running = container && this.exitOf(container) === undefined ? container.spec : starting?.running?.spec;
    if (running) this.config.journal?.({ what: 'stop', spec: running });
    if (starting) starting.cancelled = true;
    starting?.running?.stop.abort();
    this.containers.delete(id);
    clearTimeout(this.exitTimers.get(id));
    this.exitTimers.delete(id);
    this.settle(id);
  }

  async recover(): Promise<ContainerHandle[]> {
    const handles: ContainerHandle[] = [];
    for (const [id, container] of [...this.containers]) {
      if (this.config.prefix !== undefined && !id.startsWith(this.config.prefix)) continue;
      if (this.exitOf(container) === undefined) handles.push({ ...container.handle, labels: { ...container.handle.labels } });
      else await this.destroy(id);
    }
    return handles;
  }

  /**
   * Test control: the container's process dies now (a crash, or the OOM killer) with `status` as
   * runc would report it (default 137: SIGKILL). No-op for unknown ids.
   */
  kill(id: string, options: { oom?: boolean; status?: number } = {}): void {
    const container = this.containers.get(id);
    if (!container || this.exitOf(container) !== undefined) return;
    container.killed = { at: this.now(), oom: options.oom ?? false, status: options.status ?? 137 };
    this.settle(id);
  }

  /** Test inspection: every container that exists (running or stopped, not destroyed), as copies. */
  list(): FakeContainer[] {
    return [...this.containers.values()].map((c) => ({ ...c, handle: { ...c.handle, labels: { ...c.handle.labels } } }));
  }

  /** How many containers run now (by the script and `now`). */
  runningCount(): number {
    let running = 0;
    for (const container of this.containers.values()) if (this.exitOf(container) === undefined) running++;
    return running;
  }

  /** Undefined while the container runs; else whether its end was an OOM kill. */
  private exitOf(container: FakeContainer): { oom: boolean; status: number } | undefined {
    if (container.killed) return container.killed;
    const scripted = container.scriptedExit;
    return scripted && this.now() >= scripted.at ? scripted : undefined;
  }

  /** Validates, then checks the id and allocates under a lock, as RuncRuntime does. */
  private reserve(spec: ContainerSpec): Promise<Reservation> {
    validateContainerSpec(spec, this.config.prefix);
    const next = this.allocationLock.then(
      () => this.allocate(spec),
      () => this.allocate(spec),
    );
    this.allocationLock = next.catch(() => undefined);
    return next;
  }

  private async allocate(spec: ContainerSpec): Promise<Reservation> {
    if (this.containers.has(spec.id) || this.starting.has(spec.id)) {
      throw new RuntimeError(RuntimeErrorCode.AlreadyExists, `container ${spec.id} already exists`);
    }
    const usedIps = new Set<string>();
    const usedPorts = new Set<number>();
    for (const { ip, hostPort } of [...[...this.containers.values()].map((c) => c.handle), ...this.starting.values()]) {
      usedIps.add(ip);
      if (hostPort !== undefined) usedPorts.add(hostPort);
    }
    const ip = allocateIp(this.subnet, usedIps);
    let hostPort: number | undefined;
    if (spec.hostPort !== undefined) {
      hostPort = await claimPort(spec.hostPort, usedPorts, hostPortsAreFree);
    } else if (spec.containerPort !== undefined) {
      hostPort = await allocatePort(this.portRange, usedPorts, this.portCursor, hostPortsAreFree);
      this.portCursor = hostPort;
    }
    const reservation: Reservation = { ip, hostPort, cancelled: false };
    this.starting.set(spec.id, reservation);
    return reservation;
  }

  private async latency(): Promise<void> {
    const ms = this.config.startLatencyMs ?? 0;
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  }

}

/** The fake maps no real host port, so nothing on the host can be in its way. */
const hostPortsAreFree = async (): Promise<boolean> => true;
