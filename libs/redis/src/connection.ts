import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection as BullMQ and the platform want it: commands wait for a reconnect instead of
 * failing after a few retries, and reconnects back off up to two seconds.
 */
export function createRedisConnection(url: string, connectionName: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    ...extra,
  });
}
