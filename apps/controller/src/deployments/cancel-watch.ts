import type { Redis } from 'ioredis';
import type { RedisKeys } from '@paas/contracts';
import { clearDeployCancel, readDeployCancel } from '@paas/redis';

/** How often a running deployment looks for a cancel request. */
const POLL_MS = 300;

/**
 * The running side of a cancel: polls the deployment's cancel key in Redis (set by whichever
 * controller replica took the cancel request) and aborts `signal` once it appears, so every wait
 * of the deployment (release command, instance health) ends at once.
 *
 * Contract: start() once, stop() when the deployment ends (safe twice); check() any time; clear()
 * once the deployment ended (the request is spent).
 */
export class CancelWatch {
  private readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;
  private requestedBy?: string;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly deploymentId: string,
    private readonly pollMs = POLL_MS,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Who asked for the cancel, once someone did. */
  get by(): string | undefined {
    return this.requestedBy;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll().catch(() => undefined), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Removes the cancel request (the deployment ended, whoever asked). Safe when there is none. */
  async clear(): Promise<void> {
    await clearDeployCancel(this.redis, this.keys, this.deploymentId);
  }

  /** Reads the key now; throws CanceledError when a cancel was asked for (a step boundary). */
  async check(): Promise<void> {
    await this.poll();
    if (this.requestedBy !== undefined) throw new CanceledError(this.requestedBy);
  }

  private async poll(): Promise<void> {
    if (this.requestedBy !== undefined) return;
    const by = await readDeployCancel(this.redis, this.keys, this.deploymentId);
    if (by === undefined) return;
    this.requestedBy = by;
    this.stop();
    this.controller.abort(new CanceledError(this.requestedBy));
  }
}

/** Thrown inside a deployment when it stops because it was canceled. */
export class CanceledError extends Error {
  constructor(readonly by: string) {
    super(`canceled by ${by}`);
    this.name = 'CanceledError';
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
