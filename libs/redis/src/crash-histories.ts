import type { Redis } from 'ioredis';
import type { RedisKeys } from '@paas/contracts';

/**
 * Crash histories of an app's instance slots (RedisKeys.crashes: hash `${processType}:${index}` ->
 * JSON), the memory of the restart backoff. The value's shape is the convergence's; this module
 * stores it as given and reads it back, dropping a malformed entry.
 */

/** Every crash history of the app, keyed `${processType}:${index}`; a malformed entry is left out. */
export async function readCrashHistories<T>(redis: Redis, keys: RedisKeys, appId: string): Promise<Map<string, T>> {
  const raw = await redis.hgetall(keys.crashes(appId));
  const out = new Map<string, T>();
  for (const [field, value] of Object.entries(raw)) {
    try {
      out.set(field, JSON.parse(value) as T);
    } catch {
      // a malformed entry is dropped
    }
  }
  return out;
}

/** Stores (replaces) the crash history of one slot. Safe to call twice. */
export async function recordCrash(redis: Redis, keys: RedisKeys, appId: string, processType: string, index: number, history: unknown): Promise<void> {
  await redis.hset(keys.crashes(appId), `${processType}:${index}`, JSON.stringify(history));
}

/** Forgets the crash history of one slot (it ran long enough). Safe to call twice. */
export async function resetCrash(redis: Redis, keys: RedisKeys, appId: string, processType: string, index: number): Promise<void> {
  await redis.hdel(keys.crashes(appId), `${processType}:${index}`);
}

/** Forgets every crash history of a deleted app. */
export async function forgetAppCrashes(redis: Redis, keys: RedisKeys, appId: string): Promise<void> {
  await redis.del(keys.crashes(appId));
}
