import { once } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection as BullMQ and the platform want it: commands wait for a reconnect instead of
 * failing after a few retries, and reconnects back off up to two seconds.
 */
export function createRedisConnection(url: string, connectionName: string, extra: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    ...extra,
  });
  // Connection errors are retried by ioredis and surface to callers as failed commands; without a
  // listener each one would be printed as an "unhandled error event".
  redis.on('error', () => undefined);
  return redis;
}

/** How long a fail-fast command waits for its answer (a paused or overloaded Redis) before failing. */
export const FAIL_FAST_COMMAND_TIMEOUT_MS = 1_500;

/**
 * A Redis connection for answers someone is waiting for (API reads): while Redis is unreachable a
 * command fails at once ("Stream isn't writeable ...", no offline queue) and one that gets no
 * answer (Redis paused, SIGSTOP) fails after `FAIL_FAST_COMMAND_TIMEOUT_MS` ("Command timed
 * out"), instead of waiting for Redis to come back. It reconnects by itself like the others.
 */
export function createFailFastRedisConnection(url: string, connectionName: string, extra: RedisOptions = {}): Redis {
  return createRedisConnection(url, connectionName, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: FAIL_FAST_COMMAND_TIMEOUT_MS,
    ...extra,
  });
}

/**
 * Subscribes `subscriber` (a connection of its own) to `channel` once it is ready. A SUBSCRIBE
 * sent while the connection was still connecting was seen to be confirmed and yet deliver none of
 * the messages that followed at once (a stage job's lines and end): waiting for 'ready' first
 * closes that window. Waits while Redis is unreachable, like any command of such a connection.
 */
export async function subscribeWhenReady(subscriber: Redis, channel: string): Promise<void> {
  if (subscriber.status !== 'ready') await once(subscriber, 'ready');
  await subscriber.subscribe(channel);
}
