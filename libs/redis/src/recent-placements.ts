import type { Redis } from 'ioredis';
import type { RedisKeys } from '@paas/contracts';

/**
 * Placements of the last seconds (RedisKeys.recentPlacements: sorted set, score epoch ms, member
 * `cellId|memoryMb|instanceId`): they count against their cell until its presence reports them.
 */

/** Books one placement on a cell at `at`. */
export async function bookPlacement(redis: Redis, keys: RedisKeys, placement: { cellId: string; memoryMb: number; instanceId: string }, at = Date.now()): Promise<void> {
  await redis.multi().zadd(keys.recentPlacements, at, `${placement.cellId}|${placement.memoryMb}|${placement.instanceId}`).exec();
}

/** Drops bookings older than `since`, then sums the rest per cell (instances, memory). */
export async function readRecentPlacements(redis: Redis, keys: RedisKeys, since: number): Promise<Map<string, { instances: number; memoryMb: number }>> {
  await redis.zremrangebyscore(keys.recentPlacements, 0, since);
  const out = new Map<string, { instances: number; memoryMb: number }>();
  for (const member of await redis.zrangebyscore(keys.recentPlacements, since, '+inf')) {
    const [cellId, memory] = member.split('|');
    const entry = out.get(cellId) ?? { instances: 0, memoryMb: 0 };
    entry.instances += 1;
    entry.memoryMb += Number(memory) || 0;
    out.set(cellId, entry);
  }
  return out;
}

/** Drops the booking of an instance (stopped: it no longer holds room). Safe to call twice. */
export async function unbookPlacement(redis: Redis, keys: RedisKeys, instanceId: string): Promise<void> {
  const booked = (await redis.zrange(keys.recentPlacements, 0, -1)).filter((m) => m.endsWith(`|${instanceId}`));
  if (booked.length > 0) await redis.zrem(keys.recentPlacements, ...booked);
}
