import type { Redis } from 'ioredis';
import { CELL_PRESENCE_TTL_SECONDS, cellPresenceSchema, type CellPresence, type CellPresenceInput, type RedisKeys } from '@paas/contracts';

/** Writes (or refreshes) a cell's presence; it expires unless refreshed within the TTL. */
export async function announceCell(redis: Redis, keys: RedisKeys, input: CellPresenceInput): Promise<void> {
  const presence = cellPresenceSchema.parse(input);
  await redis
    .multi()
    .sadd(keys.cells, presence.id)
    .set(keys.cellPresence(presence.id), JSON.stringify(presence), 'EX', CELL_PRESENCE_TTL_SECONDS)
    .exec();
}

/** Removes a cell's presence at once (clean shutdown), instead of waiting for its TTL. */
export async function withdrawCell(redis: Redis, keys: RedisKeys, cellId: string): Promise<void> {
  await redis.multi().srem(keys.cells, cellId).del(keys.cellPresence(cellId)).exec();
}

/** Cells whose presence has not expired; invalid entries are skipped. */
export async function listLiveCells(redis: Redis, keys: RedisKeys): Promise<CellPresence[]> {
  return (await readCellRegistry(redis, keys)).live;
}

/**
 * The cell registry in one read: `live` as listLiveCells, and `expired`, the ids of cells that
 * announced themselves and never withdrew but whose presence is gone (its TTL ran out: the cell
 * stopped refreshing it). A withdrawn cell (clean shutdown) is in neither. Ids sorted.
 */
export async function readCellRegistry(redis: Redis, keys: RedisKeys): Promise<{ live: CellPresence[]; expired: string[] }> {
  const ids = (await redis.smembers(keys.cells)).sort();
  if (ids.length === 0) return { live: [], expired: [] };
  const values = await redis.mget(ids.map((id) => keys.cellPresence(id)));
  const live: CellPresence[] = [];
  const expired: string[] = [];
  values.forEach((value, i) => {
    if (!value) {
      expired.push(ids[i]!);
      return;
    }
    const parsed = cellPresenceSchema.safeParse(JSON.parse(value));
    if (parsed.success) live.push(parsed.data);
  });
  return { live: live.sort((a, b) => a.id.localeCompare(b.id)), expired };
}

/** Ids of every cell that announced itself and never withdrew, live or not (sorted). */
export async function listAnnouncedCells(redis: Redis, keys: RedisKeys): Promise<string[]> {
  return (await redis.smembers(keys.cells)).sort();
}

/** True while the cell's presence has not expired. */
export async function cellPresent(redis: Redis, keys: RedisKeys, cellId: string): Promise<boolean> {
  return (await redis.exists(keys.cellPresence(cellId))) === 1;
}

/**
 * Lets the cell's presence expire within `afterMs`, as if its last heartbeat had been a whole TTL
 * ago (test harnesses: a cell that stopped). Its next announceCell brings it back.
 */
export async function expireCellPresence(redis: Redis, keys: RedisKeys, cellId: string, afterMs: number): Promise<void> {
  await redis.pexpire(keys.cellPresence(cellId), afterMs);
}
