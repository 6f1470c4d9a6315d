/**
 * The one polling helper of the tree (production and tests): call a check again and again until it
 * gives a value or a deadline passes. Tests wait with it instead of fixed sleeps.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** How long to keep trying before failing. */
  timeoutMs: number;
  /** The pause between two checks (default 100 ms). */
  intervalMs?: number;
}

/** Without options: 20 s, a check every 100 ms. */
export const DEFAULT_POLL: PollOptions = { timeoutMs: 20_000 };

/** Thrown by a check to stop polling at once: pollUntil rejects with `cause` (a broken check is not retried). */
export class StopPolling extends Error {
  constructor(readonly reason: Error) {
    super(reason.message);
    this.name = 'StopPolling';
  }
}

/** A check: a value when done; undefined, null or false when not yet. */
export type Check<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

/**
 * Calls `check` every `intervalMs` until it returns (or resolves to) something other than
 * undefined, null or false, and returns that. An error thrown by `check` is remembered and tried
 * again (throw StopPolling to fail at once). Past `timeoutMs` (default 20 s) it rejects with an Error naming
 * `what` and the last error or value seen. The first check runs at once.
 */
export async function pollUntil<T>(what: string, check: Check<T>, options: PollOptions = DEFAULT_POLL): Promise<T> {
  const { timeoutMs, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  let last: { error: unknown } | { value: unknown } = { value: undefined };
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
      last = { value };
    } catch (error) {
      if (error instanceof StopPolling) throw error.reason;
      last = { error };
    }
    if (Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs);
  }
  const seen = 'error' in last ? `last error: ${last.error instanceof Error ? last.error.message : String(last.error)}` : `last value: ${String(last.value)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${seen})`);
}
