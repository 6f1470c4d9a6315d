import type { Redis } from 'ioredis';
import type { RedisKeys } from '@paas/contracts';

/**
 * How far a cell's log shipper read each instance's output files (RedisKeys.logOffsets: hash
 * `${instanceId}:out|err` -> byte offset). The shipper writes them through AppLogWriter.checkpoint,
 * in the transaction of the lines it read; these read them back after an agent restart and forget
 * those of instances the cell no longer runs.
 */

/** Which output file of an instance: its stdout or its stderr. */
export type OutputFile = 'out' | 'err';

/** The hash field of one output file of an instance. */
export function logOffsetField(instanceId: string, file: OutputFile): string {
  return `${instanceId}:${file}`;
}

/** The saved offsets of both output files of an instance; 0 for one never checkpointed (or invalid). */
export async function readLogOffsets(redis: Redis, keys: RedisKeys, cellId: string, instanceId: string): Promise<Record<OutputFile, number>> {
  const [out, err] = await redis.hmget(keys.logOffsets(cellId), logOffsetField(instanceId, 'out'), logOffsetField(instanceId, 'err'));
  const offset = (saved: string | null | undefined) => Number(saved ?? 0) || 0;
  return { out: offset(out), err: offset(err) };
}

/** Forgets the offsets of every instance of the cell not in `keep`; returns how many fields went. Safe to call twice. */
export async function forgetLogOffsetsExcept(redis: Redis, keys: RedisKeys, cellId: string, keep: ReadonlySet<string>): Promise<number> {
  const fields = await redis.hkeys(keys.logOffsets(cellId));
  const stale = fields.filter((field) => !keep.has(field.slice(0, field.lastIndexOf(':'))));
  if (stale.length) await redis.hdel(keys.logOffsets(cellId), ...stale);
  return stale.length;
}
