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
   * `runc run --keep` in the foreground, under a detached shell that outlives the agent and, when
   * the container ends, writes runc's exit status (the process's own, or 128 + N for signal N) to
   * `exitFile` (written whole: a temporary file renamed). The container gets `outputFd` and
   * `errorFd` as its fds 3 and 4 (`--preserve-fds 2`): its command must make them its stdout and
   * stderr (see OciInputs.stdioFromFds), runc's own pipes stay unused. runc's log goes to
   * `logPath`. Returns the shell; `exit` tells when it ended (at once when runc failed to start).
   */
  spawnSupervised(id: string, bundle: string, io: { outputFd: number; errorFd: number; logPath: string; exitFile: string }): ChildProcess {
    const args = this.args('--log', io.logPath, 'run', '--keep', '--preserve-fds', '2', '--bundle', bundle, id);
    const script = `${RUNC} "$@"; status=$?; echo "$status" > "$PAAS_EXIT_FILE.tmp" && mv -f "$PAAS_EXIT_FILE.tmp" "$PAAS_EXIT_FILE"`;
    // A clean environment: NOTIFY_SOCKET (a systemd unit's) would make runc wait for the app's READY=1.
    const child = spawn('/bin/sh', ['-c', script, 'paas-runc-shim', ...args], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', io.outputFd, io.errorFd],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', PAAS_EXIT_FILE: io.exitFile },
    });
    child.unref();
    return child;
  }

  /** The log lines runc wrote (its reason when it failed), the last `count`. */
  async logTail(logPath: string, count = 5): Promise<string> {
    return lastLines(await readFile(logPath, 'utf8').catch(() => ''), count);
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
