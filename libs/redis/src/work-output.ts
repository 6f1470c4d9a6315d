import type { Redis } from 'ioredis';

/**
 * The output of a cell's piece of work (a staging on RedisKeys.buildLog, a task on
 * RedisKeys.taskLog), published as `{type:'line',text}` messages then one `{type:'end',result}`;
 * the controller subscribes to the channel before it queues the work.
 */

/** Publishes one output line on `channel`. */
export async function publishWorkLine(redis: Redis, channel: string, text: string): Promise<void> {
  await redis.publish(channel, JSON.stringify({ type: 'line', text }));
}

/** Publishes the end of the work and its result on `channel` (last message). */
export async function publishWorkEnd(redis: Redis, channel: string, result: unknown): Promise<void> {
  await redis.publish(channel, JSON.stringify({ type: 'end', result }));
}
