import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { exec } from './exec';
import { CommandFailedError } from './runtime-error';

/** What `runc state` / `runc list` report about one container. */
export interface RuncState {
  id: string;
  pid: number;
  status: 'created' | 'running' | 'paused' | 'stopped' | string;
  bundle: string;
}

const RUNC = 'runc';

function isNotFound(error: unknown): boolean {
  return error instanceof CommandFailedError && /does not exist|not found|no such file/i.test(error.stderr);
}

/** Thin wrapper over the runc CLI, bound to one `--root` state directory. */
export class Runc {
  constructor(private readonly root: string) {}

  private args(...rest: string[]): string[] {
    return ['--root', this.root, ...rest];
  }

  /** `runc state`, or undefined when the container does not exist. */
  async state(id: string): Promise<RuncState | undefined> {
    try {
      const { stdout } = await exec(RUNC, this.args('state', id));
      return JSON.parse(stdout) as RuncState;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async list(): Promise<RuncState[]> {
    try {
      const { stdout } = await exec(RUNC, this.args('list', '--format', 'json'));
      return (JSON.parse(stdout || 'null') as RuncState[] | null) ?? [];
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  }

  /** Sends a signal to the container's init; a missing or already stopped container is fine. */
  async kill(id: string, signal: 'TERM' | 'KILL'): Promise<void> {
    try {
      await exec(RUNC, this.args('kill', id, signal));
    } catch (error) {
      if (isNotFound(error)) return;
      if (error instanceof CommandFailedError && /not running|process already finished/i.test(error.stderr)) return;
      throw error;
    }
  }

  /** `runc delete --force`; a missing container is fine. */
  async delete(id: string): Promise<void> {
    try {
      await exec(RUNC, this.args('delete', '--force', id));
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
  }

  /**
   * `runc run -d`: the container's stdout is `outputFd`, its stderr `errorFd` (default: `outputFd`
   * too), stdin is /dev/null. Resolves once runc has started the container and exited; runc's own
   * log goes to `logPath`.
   */
  async runDetached(id: string, bundle: string, outputFd: number, logPath: string, errorFd = outputFd): Promise<void> {
    const args = this.args('--log', logPath, 'run', '--detach', '--bundle', bundle, id);
    const child = spawn(RUNC, args, { stdio: ['ignore', outputFd, errorFd] });
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    });
    if (exitCode !== 0) {
      const log = await readFile(logPath, 'utf8').catch(() => '');
      throw new CommandFailedError(RUNC, args, exitCode, lastLines(log, 5));
    }
  }

  /**
   * `runc run --keep` in the foreground with piped stdout/stderr; the container stays (stopped)
   * after it exits so its cgroup can be read, and must then be deleted.
   */
  spawnForeground(id: string, bundle: string, logPath: string): ChildProcess {
    return spawn(RUNC, this.args('--log', logPath, 'run', '--keep', '--bundle', bundle, id), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}
