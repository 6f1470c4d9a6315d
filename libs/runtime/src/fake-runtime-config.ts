import type { ContainerHandle, ContainerSpec, ContainerStats, RunOptions, RunResult } from './container-runtime';

/**
 * The script of a FakeRuntime. Every hook is asked once per container, when `start` (or `run`)
 * is called, and its answer is kept with the container.
 */
export interface FakeRuntimeConfig {
  /** When set, ids must start with it (as RuncRuntime's prefix) and `recover` returns only those. */
  prefix?: string;
  /** How long `start` and `run` take (a real timer); 0 (the default) answers without one. */
  startLatencyMs?: number;
  /** An error message makes `start`/`run` fail as a failed `runc run` would; nothing stays allocated. */
  failStartFor?: (spec: ContainerSpec) => string | undefined;
  /** The container exits on its own this long after `start` resolved (by `now`). */
  crashAfterMs?: (spec: ContainerSpec) => number | undefined;
  /** The container is OOM-killed: at crashAfterMs when that is set, else at once. */
  oomFor?: (spec: ContainerSpec) => boolean;
  /** The exit status of a scripted exit (crashAfterMs); default 1, 137 (SIGKILL) for an OOM kill. */
  exitStatusFor?: (spec: ContainerSpec) => number;
  /**
   * When set, each started container with a host port serves HTTP on serveOn:hostPort (200 to
   * every request, as a healthy app: health checks and routers reach it) until it stops, and
   * exits (as kill) when POSTed FAKE_APP_EXIT_PATH (see listenAsApp); a port
   * that is taken fails the start. Unset: nothing listens.
   */
  serveOn?: string;
  /** With serveOn: whether this container listens at all (default yes); one that does not is an app that never binds its port. */
  listensFor?: (spec: ContainerSpec) => boolean;
  /**
   * What a foreground container (`run`: staging, a task) does, as a script: it may write into the
   * spec's bind sources and print through options.onLine as the real process would. Its answer
   * is run's result; undefined falls back to the defaults (see run). Asked after failStartFor.
   * `stopped` aborts when `stop`/`destroy` ends the container meanwhile: run then resolves at once
   * with exit code 143 (SIGTERM, as runc reports it), whatever the script answers later.
   */
  runFor?: (spec: ContainerSpec, options: RunOptions, stopped: AbortSignal) => Promise<RunResult | undefined>;
  /**
   * Lines a detached container prints on stdout when it starts, appended to the spec's logFile
   * (as a real container's output is) before `start` resolves; none without it.
   */
  outputFor?: (spec: ContainerSpec) => string[];
  /**
   * Told, synchronously and in order, what happens to containers: `start` (a detached one started),
   * `run` and `run-end` (a foreground one began and ended, with its result), `stop` (`stop`/`destroy`
   * ended a running one). For tests that order what several runtimes did.
   */
  journal?: (entry: FakeJournalEntry) => void;
  /** How long `stop` takes (a real timer, as an app using its grace period); 0 (the default): none. */
  stopLatencyMs?: number;
  /** First host port handed out; ports come from [hostPortBase, hostPortBase + hostPortCount - 1]. */
  hostPortBase?: number;
  /** Size of the host port range (default 1000, as a cell's default 61000-61999). */
  hostPortCount?: number;
  /** The bridge subnet addresses come from (default 10.254.0.0/24); .2-.254, as RuncRuntime. */
  subnet?: string;
  /**
   * The clock crashes are measured on (default Date.now); inject one so tests need no sleeps. With
   * the default clock a scripted exit resolves `wait` at its time by a timer; with an injected one,
   * call `checkExits()` after moving the clock.
   */
  now?: () => number;
  /**
   * What `stats` reports for a running container, asked at every call with how long it has run
   * (by `now`); missing fields read 0. The limits always come from the spec (memoryMb, diskMb), and
   * cpuNanos never exceeds what the spec's cpuMillicores quota allows over runningMs.
   */
  usageFor?: (spec: ContainerSpec, runningMs: number) => Partial<Pick<ContainerStats, 'cpuNanos' | 'memoryBytes' | 'diskBytes'>>;
}

/** What the fake knows about one container; `list()` returns copies. */
export interface FakeContainer {
  spec: ContainerSpec;
  handle: ContainerHandle;
  /** `now()` when start resolved. */
  startedAt: number;
  /** When (by `now()`) and how the container exits on its own, as scripted; undefined: never. */
  scriptedExit?: { at: number; oom: boolean; status: number };
  /** Set by kill(): the container died then, whatever the script says. */
  killed?: { at: number; oom: boolean; status: number };
}

/** One entry of FakeRuntimeConfig.journal. */
export interface FakeJournalEntry {
  what: 'start' | 'run' | 'run-end' | 'stop';
  spec: ContainerSpec;
  /** With `run-end`: what run resolved with. */
  result?: RunResult;
}
