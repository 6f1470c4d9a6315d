import { constants } from 'node:os';
import type { InstanceExit } from '@paas/contracts';
import { outputFiles, readFileTail } from './log-shipper';
import { logTail } from './log-tail';

/** Lines of an instance's output a failure reason carries (exit, health-check timeout). */
const FAILURE_LOG_LINES = 10;

/** Highest signal number a status above 128 is read as (real-time signals included). */
const MAX_SIGNAL = 64;

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, number]) => [number, name]));

/**
 * How a container's process ended, in the words of a crash reason: "exited with status 3",
 * "killed by signal 9 (SIGKILL)", "out of memory (killed at its 256 MB limit)". A status above 128
 * is read as 128 + the signal that killed it, as runc and shells report it (an app that itself
 * exits with 137 reads as SIGKILL too). Without a status: "exited (its status is unknown)".
 */
export function describeExit(exit: InstanceExit, memoryMb?: number): string {
  if (exit.oomKilled) return `out of memory (killed${memoryMb ? ` at its ${memoryMb} MB limit` : ''})`;
  const status = exit.status;
  if (status === undefined) return 'exited (its status is unknown)';
  if (status > 128 && status <= 128 + MAX_SIGNAL) {
    const signal = status - 128;
    const name = SIGNAL_NAMES.get(signal);
    return `killed by signal ${signal}${name ? ` (${name})` : ''}`;
  }
  return `exited with status ${status}`;
}

/**
 * `reason` followed by "; its last log lines: ..." with the last lines of an instance's output in
 * `logDir` (stdout, then stderr), joined with " | " (one line in reports and push output); `reason`
 * and `whenSilent` when it printed nothing.
 */
export async function withOutputTail(reason: string, logDir: string, instanceId: string, whenSilent = ''): Promise<string> {
  const files = outputFiles(logDir, instanceId);
  const [out, err] = await Promise.all([readFileTail(files.out), readFileTail(files.err)]);
  const tail = logTail(err ? `${out}\n${err}` : out, FAILURE_LOG_LINES).join(' | ');
  return `${reason}${tail ? `; its last log lines: ${tail}` : whenSilent}`;
}
