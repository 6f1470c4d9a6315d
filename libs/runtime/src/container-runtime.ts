import type { ContainerEgress } from './egress';

/**
 * The cell talks to its containers only through this interface. The runc driver
 * (`RuncRuntime`) is the real one; a fake scripted through its config serves scheduler tests.
 *
 * Contract: `start` and `run` are called once per container id; `stop` and `destroy` are safe to
 * call twice and on an id that never started; `recover` is called once at cell start-up, before
 * any `start`, and returns the containers that survived a restart of the agent. `wait` may be
 * called any number of times, concurrently, on any id, at any point after `start` (or `recover`)
 * returned it.
 */
export interface ContainerRuntime {
  /** Builds the bundle, network and cgroup, then starts the container detached. */
  start(spec: ContainerSpec): Promise<ContainerHandle>;
  /** Runs a container in the foreground to completion (staging); output is streamed line by line. */
  run(spec: ContainerSpec, options: RunOptions): Promise<RunResult>;
  /** Current state of one container, or undefined when it does not exist. */
  inspect(id: string): Promise<ContainerStatus | undefined>;
  /**
   * Resolves once the container is no longer running (Nomad's WaitTask): with its stopped status
   * (exitStatus, oomKilled, as `inspect` reads them then), or undefined when it does not exist (never
   * started, or destroyed). At once when it already stopped. Never rejects. Every call of one exit
   * resolves alike; a container that `stop`/`destroy` ended resolves with its last status or
   * undefined, so a caller that stopped it itself reads nothing into the answer.
   */
  wait(id: string): Promise<ContainerStatus | undefined>;
  /**
   * What a running container uses now (cgroup counters, writable layer); undefined when it does
   * not exist or no longer runs. Read-only and cheap (a few small files): safe to call every few
   * seconds, concurrently with anything.
   */
  stats(id: string): Promise<ContainerStats | undefined>;
  /** Sends SIGTERM, waits up to graceMs, then SIGKILL; then frees everything (see destroy). */
  stop(id: string, graceMs: number): Promise<void>;
  /** Removes the container, its bundle, overlay and layer mounts, netns, veth, port mapping and cgroup. */
  destroy(id: string): Promise<void>;
  /** Containers of this runtime's prefix that exist on the host (after an agent restart). */
  recover(): Promise<ContainerHandle[]>;
}

export interface ContainerSpec {
  /** Unique on the host; starts with the runtime's prefix. [a-z0-9-], at most 60 characters. */
  id: string;
  /** Read-only lower layers, uppermost first (e.g. [dropletDir]); the stack is always added last. */
  layers: string[];
  /** argv, run as `user` inside the container. */
  command: string[];
  cwd: string;
  env: Record<string, string>;
  /** Ids inside the container's user namespace (vcap: VCAP_UID); on the host they are hostIdOf(idMapping, id). */
  user: { uid: number; gid: number };
  memoryMb: number;
  /**
   * Size limit of the container's writable layer (everything it writes outside binds, incl. /tmp),
   * in MiB: writes past it fail with ENOSPC. Unset: unlimited (bounded by the host's disk).
   */
  diskMb?: number;
  /**
   * CFS quota in millicores: the container gets at most cpuMillicores/1000 cores of CPU time per
   * 10 ms period (500: half a core; see cfs-quota.ts), however many cores it spins. Unset: no quota; it competes by
   * its CPU shares (from memoryMb) alone and may use every idle core.
   */
  cpuMillicores?: number;
  /** Max processes/threads in the container's cgroup. */
  pidsLimit: number;
  /** When set, the container gets a host port DNAT'ed to this port on its own address. */
  containerPort?: number;
  /**
   * With containerPort: this host port rather than one of the runtime's range (a service
   * instance keeps its port across restarts; the cell allocates it from its service range). The
   * start fails (PortInUse) when another container of the runtime has it.
   */
  hostPort?: number;
  /**
   * A service instance's server: its host port is also reached by containers of this host (the
   * ones whose egress lists it in `services`, on any runtime of the host, at the address they were
   * given), hairpin included; by no other container whatever its security groups allow. Needs
   * br_netfilter on the host (InvalidConfig without it; see HostNetwork.attach).
   */
  service?: boolean;
  /** Extra bind mounts (staging: source, cache, buildpacks). */
  binds?: Array<{ source: string; destination: string; readonly: boolean }>;
  /** Where stdout/stderr of a detached container are appended. */
  logFile?: string;
  /** When set, a detached container's stderr is appended here instead (stdout stays in logFile). */
  errorLogFile?: string;
  /** Labels kept in the bundle and returned by recover (appId, instanceId, ...). */
  labels?: Record<string, string>;
  /** What the container may reach (see ContainerEgress); unset: nothing but replies. */
  egress?: ContainerEgress;
}

export interface RunOptions {
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  timeoutMs: number;
}

export interface RunResult {
  exitCode: number;
  /** 'oom' when the memory cgroup killed it, 'timeout' when timeoutMs ran out. */
  reason?: 'oom' | 'timeout';
}

export interface ContainerHandle {
  id: string;
  /** The container's address on the cell's bridge. */
  ip: string;
  /** Host port mapped to containerPort, when one was asked for. */
  hostPort?: number;
  pid: number;
  labels: Record<string, string>;
}

export interface ContainerStatus {
  id: string;
  state: 'running' | 'stopped';
  pid?: number;
  /** True when the memory cgroup recorded an OOM kill. */
  oomKilled: boolean;
  /**
   * Once stopped: what runc returned, the process's exit status or 128 + N when signal N killed
   * it (as shells report it). Undefined while it runs, and when the runtime could not learn it.
   */
  exitStatus?: number;
}

/** One reading of a container's resource usage (see ContainerRuntime.stats). */
export interface ContainerStats {
  /**
   * CPU time all its processes used since it started, in nanoseconds; only grows. A CPU % is
   * the difference of two readings over the wall time between them.
   */
  cpuNanos: number;
  /**
   * Memory in use, in bytes: the memory cgroup's usage minus its inactive file cache (page cache
   * the kernel reclaims first), as `docker stats` computes it. Cgroup v1: memory.usage_in_bytes -
   * total_inactive_file; v2: memory.current - inactive_file.
   */
  memoryBytes: number;
  /** The memory cgroup's limit in bytes; undefined when unlimited. */
  memoryLimitBytes?: number;
  /** Bytes used on the writable layer: used blocks of its ext4 image, or the sizes of its upper dir without one. */
  diskBytes: number;
  /** Size of the writable layer's image in bytes (diskMb); undefined without a disk limit. */
  diskLimitBytes?: number;
}
