/**
 * The shim of a supervised container (the /bin/sh around a foreground `runc run --keep` that
 * keeps runc's exit status in a file, see Runc.spawnSupervised): when runc has started it, when it
 * ended, what it returned. Used by RuncRuntime for `start`, `inspect` and `wait`.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { ContainerStatus } from './container-runtime';
import type { Runc } from './runc';
import { CommandFailedError } from './runtime-error';

const POLL_MS = 50;
/** How long runc may take to create and start a container (slow under load: mounts, cgroups, netns). */
const START_TIMEOUT_MS = 60_000;
/** How long a container's shim may take to write its exit status once the container stopped. */
const EXIT_STATUS_WAIT_MS = 2_000;
/**
 * How often `wait` asks runc about a container whose shim is not this runtime's child (one
 * re-adopted after an agent restart): as often as the cell's monitor loop used to ask about every one.
 */
const WAIT_POLL_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where a supervised container's runc files are. */
export interface ShimPaths {
  bundle: string;
  runcLog: string;
  exitFile: string;
}

/**
 * What runc returned when the container ended, as its shim wrote it to `exitFile`. runc reports
 * the exit a moment after the init is gone: waits up to EXIT_STATUS_WAIT_MS for the file;
 * undefined when it never comes (a shim that was killed).
 */
export async function readExitStatus(exitFile: string): Promise<number | undefined> {
  const deadline = Date.now() + EXIT_STATUS_WAIT_MS;
  for (let poll = 0; poll <= EXIT_STATUS_WAIT_MS / POLL_MS; poll++) {
    const text = await readFile(exitFile, 'utf8').catch(() => undefined);
    const status = text === undefined ? NaN : Number(text.trim());
    if (Number.isInteger(status) && status >= 0 && status <= 255) return status;
    if (Date.now() >= deadline) break;
    await sleep(POLL_MS);
  }
  return undefined;
}

/**
 * Waits until runc has created and started container `id` (its state is running, or already
 * stopped: an app that exits at once), and returns its init's pid. When the shim ends first with
 * no container, runc failed: rejects with runc's own reason. Bounded by START_TIMEOUT_MS.
 */
export async function waitStarted(runc: Runc, id: string, shim: ChildProcess, paths: ShimPaths): Promise<number> {
  let ended = false;
  shim.once('exit', () => (ended = true));
  const failed = new Promise<void>((resolve) => shim.once('error', () => resolve()));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (let poll = 0; poll <= START_TIMEOUT_MS / POLL_MS; poll++) {
    const shimEnded = ended;
    const state = await runc.state(id);
    if (state && state.status !== 'created') return state.status === 'stopped' ? 0 : state.pid;
    if (shimEnded || Date.now() >= deadline) break;
    await Promise.race([sleep(POLL_MS), failed]);
  }
  const status = await readFile(paths.exitFile, 'utf8').catch(() => '');
  const args = ['run', '--keep', '--bundle', paths.bundle, id];
  if (!ended) shim.kill('SIGKILL');
  throw new CommandFailedError('runc', args, Number(status.trim()) || null, (await runc.logTail(paths.runcLog)) || (ended ? 'runc ended without starting the container' : `the container did not start within ${START_TIMEOUT_MS / 1000}s`));
}

/**
 * When containers end: `track` the shim of each container started here (it ends right after the
 * container); `wait` answers from that end without polling, and for a container whose shim is
 * not tracked (re-adopted after a restart, or killed) asks `inspect` every WAIT_POLL_MS. A failing
 * `inspect` is retried at that pace: `wait` never rejects. Every caller of one id shares one wait.
 */
export class ExitWatch {
  private readonly shimExits = new Map<string, Promise<void>>();
  private readonly waits = new Map<string, Promise<ContainerStatus | undefined>>();

  constructor(private readonly inspect: (id: string) => Promise<ContainerStatus | undefined>) {}

  track(id: string, shim: ChildProcess): void {
    const shimExit = new Promise<void>((resolve) => {
      shim.once('exit', () => resolve());
      shim.once('error', () => resolve());
    });
    this.shimExits.set(id, shimExit);
    void shimExit.then(() => {
      if (this.shimExits.get(id) === shimExit) this.shimExits.delete(id);
    });
  }

  wait(id: string): Promise<ContainerStatus | undefined> {
    let pending = this.waits.get(id);
    if (!pending) {
      pending = this.waitNow(id).finally(() => this.waits.delete(id));
      this.waits.set(id, pending);
    }
    return pending;
  }

  private async waitNow(id: string): Promise<ContainerStatus | undefined> {
    await this.shimExits.get(id);
    for (;;) {
      const status = await this.inspect(id).catch(() => 'unknown' as const);
      if (status === undefined || (status !== 'unknown' && status.state === 'stopped')) return status;
      await sleep(WAIT_POLL_MS);
    }
  }
}
