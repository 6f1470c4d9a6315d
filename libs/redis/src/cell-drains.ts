import type { Redis } from 'ioredis';
import type { RedisKeys } from '@paas/contracts';

/**
 * The drain mark of a cell (RedisKeys.cellDrain: the ISO time it was asked, with a TTL), set by
 * an operator through the controller or by the cell itself on SIGTERM; the cell reads it at
 * every heartbeat and announces itself draining while it exists.
 */

/** Marks the cell drained for `ttlSeconds` (replacing an older mark). */
export async function markCellDrained(redis: Redis, keys: RedisKeys, cellId: string, ttlSeconds: number, at = new Date()): Promise<void> {
  await redis.set(keys.cellDrain(cellId), at.toISOString(), 'EX', ttlSeconds);
}

/** Removes the drain mark; true when there was one. */
export async function endCellDrain(redis: Redis, keys: RedisKeys, cellId: string): Promise<boolean> {
  return (await redis.del(keys.cellDrain(cellId))) > 0;
}

/** True while the cell's drain mark exists. */
export async function cellDrainAsked(redis: Redis, keys: RedisKeys, cellId: string): Promise<boolean> {
  return (await redis.exists(keys.cellDrain(cellId))) === 1;
}
