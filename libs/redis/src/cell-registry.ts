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
  const ids = await redis.smembers(keys.cells);
  if (ids.length === 0) return [];
  const values = await redis.mget(ids.map((id) => keys.cellPresence(id)));
  const cells: CellPresence[] = [];
  for (const value of values) {
    if (!value) continue;
    const parsed = cellPresenceSchema.safeParse(JSON.parse(value));
    if (parsed.success) cells.push(parsed.data);
  }
  return cells.sort((a, b) => a.id.localeCompare(b.id));
}
