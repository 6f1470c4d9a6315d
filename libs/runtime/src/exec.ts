import { execFile } from 'node:child_process';
import { CommandFailedError } from './runtime-error';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs one external command without a shell. Rejects with CommandFailedError (command + stderr)
 * when it exits non-zero or cannot be started. `input` is written to its stdin.
 */
export function exec(file: string, args: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024, timeout: options.timeoutMs ?? 60_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === 'number' ? error.code : null;
          const detail = stderr || (typeof error.code === 'string' ? `${error.code}: ${error.message}` : error.message);
          reject(new CommandFailedError(file, args, code, detail));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like exec, but resolves false instead of rejecting (for probes such as `iptables -C`). */
export async function execSucceeds(file: string, args: readonly string[]): Promise<boolean> {
  try {
    await exec(file, args);
    return true;
  } catch (error) {
    if (error instanceof CommandFailedError) return false;
    throw error;
  }
}
