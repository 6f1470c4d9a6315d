import type { Redis } from 'ioredis';
import type { RedisKeys } from '@paas/contracts';

/**
 * The mark of a Redis rebuild (RedisKeys.redisRebuilt: epoch ms of the loss, PX settleMs), set
 * by the first controller replica that saw Redis lose its data; while it exists no replica's
 * convergence acts on the actual state.
 */

/** Sets the mark for `settleMs` unless another replica already did (NX: the window is not extended). */
export async function markRedisRebuilt(redis: Redis, keys: RedisKeys, settleMs: number, at = Date.now()): Promise<void> {
  await redis.set(keys.redisRebuilt, String(at), 'PX', settleMs, 'NX');
}

/** True while the rebuild mark of any replica exists. */
export async function redisRebuilding(redis: Redis, keys: RedisKeys): Promise<boolean> {
  return (await redis.exists(keys.redisRebuilt)) === 1;
}
