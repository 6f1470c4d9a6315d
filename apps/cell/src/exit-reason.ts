import { constants } from 'node:os';
import type { InstanceExit } from '@paas/contracts';

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
