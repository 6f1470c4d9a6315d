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
