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
