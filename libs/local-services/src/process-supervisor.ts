import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface ComponentSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  logFile: string;
  /** Restart when it dies unexpectedly, as systemd's Restart=on-failure would. */
  restart: boolean;
  /** How long to wait after the stop signal before SIGKILL. */
  stopTimeoutMs?: number;
  /** The signal that stops it (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
  /**
   * The component says when it is ready to serve: it gets an IPC channel and sends an object whose
   * `type` is this (the router's `paas-router:ready`). `whenReady` waits for it, and `replace`
   * needs it. Without it a component counts as ready once spawned.
   */
  readyMessage?: string;
}

const isMessage = (m: unknown, type: string) => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;

/**
 * Runs one component as a child process, appends its output to a log file, restarts it with a
 * backoff when it dies, stops it (SIGTERM, then SIGKILL) by its own pid, and replaces it without a
 * gap (`replace`). Calls come from one caller: `replace` and `stop` are not run concurrently
 * with themselves.
 */
export class SupervisedProcess {
  private child?: ChildProcess;
  /** The replacement `replace` is starting, not yet the supervised one. */
  private incoming?: ChildProcess;
  private readonly readiness = new WeakMap<ChildProcess, Promise<void>>();
  private stopping = false;
  private restarts = 0;
  private log?: WriteStream;
  private restartTimer?: NodeJS.Timeout;

  constructor(
    readonly spec: ComponentSpec,
    private readonly onEvent: (message: string) => void = () => undefined,
  ) {}

  /** The pid of the supervised child; undefined while it is down (between a death and its restart). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.stopping = false;
    this.child = this.spawnChild();
  }

  private spawnChild(): ChildProcess {
    this.log ??= createWriteStream(this.spec.logFile, { flags: 'a' });
    const ready = this.spec.readyMessage;
    const stdio: StdioOptions = ready ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
    // Its own process group: a Ctrl-C in the terminal reaches only the runner, which then stops
    // the components in order (cells before the Redis they report to).
    const child = spawn(this.spec.command, this.spec.args, { env: this.spec.env, stdio, detached: true });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    const readiness = new Promise<void>((resolve, reject) => {
      if (!ready) return resolve();
      child.on('message', (message: unknown) => {
        if (!isMessage(message, ready)) return;
        resolve();
        // The channel served its purpose: it must not keep this process alive.
        child.channel?.unref();
      });
      child.once('exit', (code, signal) => reject(new Error(`${this.spec.name} exited (${signal ?? code}) before it was ready`)));
    });
    readiness.catch(() => undefined);
    this.readiness.set(child, readiness);
    const startedAt = Date.now();
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.stopping || !this.spec.restart) return;
      if (Date.now() - startedAt > 60_000) this.restarts = 0;
      const delay = Math.min(500 * 2 ** this.restarts, 10_000);
      this.restarts += 1;
      this.onEvent(`${this.spec.name} exited (${signal ?? code}); restarting in ${delay} ms`);
      this.restartTimer = setTimeout(() => {
        if (!this.stopping) this.start();
      }, delay);
    });
    child.on('error', (error) => this.onEvent(`${this.spec.name} could not start: ${error.message}`));
    return child;
  }

  /**
   * Resolves once the supervised child is ready (readyMessage), waiting through restarts of a
   * child that died first; rejects after `timeoutMs` or once the component is stopped.
   */
  async whenReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.stopping) {
      const child = this.child;
      const readiness = child && this.readiness.get(child);
      if (readiness) {
        const outcome = await within(readiness, deadline - Date.now()).catch(() => 'exited' as const);
        if (outcome === 'ready') return;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error(`${this.spec.name} was not ready within ${timeoutMs} ms`);
  }

  /**
   * A rolling restart of this component: starts a second child with the same spec, waits until it
   * is ready, makes it the supervised one, then stops the old one (its stop signal; SIGKILL after
   * stopTimeoutMs) and resolves once that has exited. A replacement that exits or is not ready
   * within `readyTimeoutMs` is killed and the old child stays: it rejects saying why. Needs
   * readyMessage.
   */
  async replace(readyTimeoutMs = 30_000): Promise<void> {
    if (!this.spec.readyMessage) throw new Error(`${this.spec.name} does not say when it is ready: it cannot be replaced without a gap`);
    if (this.stopping) throw new Error(`${this.spec.name} is stopped: start it instead`);
    const next = this.spawnChild();
    this.incoming = next;
    let outcome: 'ready' | 'timeout' | Error;
    try {
      outcome = await within(this.readiness.get(next)!, readyTimeoutMs);
    } catch (error) {
      outcome = error as Error;
    }
    this.incoming = undefined;
    if (outcome !== 'ready' || this.stopping) {
      await this.stopChild(next, 'SIGKILL');
      if (this.stopping) return;
      throw outcome === 'timeout' ? new Error(`the new ${this.spec.name} was not ready within ${readyTimeoutMs} ms: the old one keeps running`) : outcome;
    }
    // The old child, or the one its supervisor restarted if it died meanwhile (or a pending restart).
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const old = this.child;
    this.child = next;
    this.restarts = 0;
    this.onEvent(`${this.spec.name} replaced: pid ${next.pid} serves, pid ${old?.pid ?? '-'} is stopping`);
    if (old) await this.stopChild(old, this.spec.stopSignal ?? 'SIGTERM');
  }

  /** Kills it with SIGKILL and does not restart it: a host that died (tests). `start()` brings it back. */
  abandon(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.child?.kill('SIGKILL');
    this.incoming?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const signal = this.spec.stopSignal ?? 'SIGTERM';
    await Promise.all([this.child, this.incoming].map((child) => child && this.stopChild(child, signal)));
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    this.log = undefined;
  }

  /** Sends `signal`, then SIGKILL after stopTimeoutMs; resolves once the child has exited. */
  private async stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    if (signal === 'SIGKILL') return exited;
    const timeoutMs = this.spec.stopTimeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.onEvent(`${this.spec.name} (pid ${child.pid}) did not stop within ${timeoutMs} ms: killing it`);
      child.kill('SIGKILL');
      await exited;
    }
  }
}

/** 'ready' once `readiness` resolves, 'timeout' after `ms`; rejects as `readiness` does. */
async function within(readiness: Promise<void>, ms: number): Promise<'ready' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(ms, 0));
  });
  try {
    return await Promise.race([readiness.then(() => 'ready' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
