import { spawn, type ChildProcess } from 'node:child_process';
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
}

/**
 * Runs one component as a child process, appends its output to a log file, restarts it with a
 * backoff when it dies, and stops it (SIGTERM, then SIGKILL) by its own pid.
 */
export class SupervisedProcess {
  private child?: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private log?: WriteStream;
  private restartTimer?: NodeJS.Timeout;

  constructor(
    readonly spec: ComponentSpec,
    private readonly onEvent: (message: string) => void = () => undefined,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.stopping = false;
    this.log ??= createWriteStream(this.spec.logFile, { flags: 'a' });
    // Its own process group: a Ctrl-C in the terminal reaches only the runner, which then stops
    // the components in order (cells before the Redis they report to).
    const child = spawn(this.spec.command, this.spec.args, {
      env: this.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
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
  }

  /** Kills it with SIGKILL and does not restart it: a host that died (tests). `start()` brings it back. */
  abandon(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(this.spec.stopSignal ?? 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.spec.stopTimeoutMs ?? 20_000);
      });
      const outcome = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        this.onEvent(`${this.spec.name} did not stop within ${this.spec.stopTimeoutMs ?? 20_000} ms: killing it`);
        child.kill('SIGKILL');
        await exited;
      }
    }
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    this.log = undefined;
  }
}
