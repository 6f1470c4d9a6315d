import type { Redis } from 'ioredis';
import type { RedisKeys } from '@paas/contracts';

/**
 * Why instance slots of an app could not be placed (RedisKeys.unplaced: hash
 * `${processType}:${index}` -> reason), for the API to show until the slot is placed.
 */

/** Records the reason of each unplaced index of one process (replacing an older one). */
export async function markUnplaced(redis: Redis, keys: RedisKeys, appId: string, processType: string, unplaced: ReadonlyArray<{ index: number; reason: string }>): Promise<void> {
  for (const { index, reason } of unplaced) await redis.hset(keys.unplaced(appId), `${processType}:${index}`, reason);
}

/** Clears the reasons of indexes of one process that are placed now. Safe to call twice. */
export async function clearUnplaced(redis: Redis, keys: RedisKeys, appId: string, processType: string, indexes: readonly number[]): Promise<void> {
  if (indexes.length) await redis.hdel(keys.unplaced(appId), ...indexes.map((i) => `${processType}:${i}`));
}

/** Clears the reasons of indexes of one process at or above `instances` (no longer desired). */
export async function clearUnplacedBeyond(redis: Redis, keys: RedisKeys, appId: string, processType: string, instances: number): Promise<void> {
  for (const field of await redis.hkeys(keys.unplaced(appId))) {
    const [type, index] = field.split(':');
    if (type === processType && Number(index) >= instances) await redis.hdel(keys.unplaced(appId), field);
  }
}

/** Every unplaced reason of the app, keyed `${processType}:${index}`. */
export async function readUnplacedReasons(redis: Redis, keys: RedisKeys, appId: string): Promise<Map<string, string>> {
  return new Map(Object.entries(await redis.hgetall(keys.unplaced(appId))));
}

/** Forgets every unplaced reason of a deleted app. */
export async function forgetUnplacedReasons(redis: Redis, keys: RedisKeys, appId: string): Promise<void> {
  await redis.del(keys.unplaced(appId));
}
