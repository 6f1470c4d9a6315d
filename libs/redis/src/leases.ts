import type { Redis } from 'ioredis';

/**
 * A lease held in Redis by the process doing a long piece of work (a push, a deployment) while it
 * runs: set at once, then set again (not merely extended) every third of its TTL, so it comes
 * back on its own after Redis lost it. `release` stops the renewal and deletes the key; call it
 * once, when the work ended. A process that dies stops renewing: the key expires within the TTL.
 */
export interface HeldLease {
  release(): Promise<void>;
}

/** Takes the lease at `key` (value: this process's pid) and renews it until released. */
export async function holdLease(redis: Redis, key: string, ttlMs: number): Promise<HeldLease> {
  await redis.set(key, String(process.pid), 'PX', ttlMs);
  const renew = setInterval(() => void redis.set(key, String(process.pid), 'PX', ttlMs).catch(() => undefined), Math.max(ttlMs / 3, 100));
  renew.unref();
  return {
    release: async () => {
      clearInterval(renew);
      await redis.del(key).catch(() => undefined);
    },
  };
}

/** True while someone holds (and renews) the lease at `key`. */
export async function leaseHeld(redis: Redis, key: string): Promise<boolean> {
  return (await redis.exists(key)) === 1;
}
