import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ROUTE_REFRESH_INTERVAL_MS, redisKeys, type RedisKeys } from '@paas/contracts';
import { createFailFastRedisConnection, createRedisConnection, markRedisRebuilt, redisRebuilding, routesProjected } from '@paas/redis';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';

/**
 * After Redis lost its data, how long the actual state stays incomplete: cells re-report their
 * instances when they reconnect and at least every ROUTE_REFRESH_INTERVAL_MS; a few seconds more
 * for a cell that is busy. Convergence waits this long, so it never takes instances it has not
 * heard of yet for missing ones.
 */
export const REDIS_REBUILD_SETTLE_MS = ROUTE_REFRESH_INTERVAL_MS + 4_000;

/**
 * The controller's Redis connections and its key builders:
 * - `redis`: background work and writes; a command waits while Redis is unreachable.
 * - `reads`: API reads; fails at once (or after a short timeout when Redis does not answer), so
 *   the API answers 503 `redis-unavailable` instead of hanging.
 * Also tells whether Redis lost its data under this controller (`checkState`).
 */
@Injectable()
export class RedisService implements OnModuleDestroy {
  readonly redis: Redis;
  readonly reads: Redis;
  readonly keys: RedisKeys;
  private seenIntact = false;
  private settleUntil = 0;

  constructor(@Inject(CONTROLLER_CONFIG) readonly config: ControllerConfig) {
    this.redis = createRedisConnection(config.redisUrl, 'controller');
    this.reads = createFailFastRedisConnection(config.redisUrl, 'controller-reads');
    this.keys = redisKeys(config.redisPrefix);
  }

  /** A new connection for blocking or subscriber use; the caller closes it. */
  duplicate(name: string): Redis {
    return createRedisConnection(this.config.redisUrl, name);
  }

  /**
   * Reads the projection mark (RedisKeys.routesProjected): 'intact' when it is there, 'lost' when
   * it was seen before and is gone now (Redis restarted empty or was flushed), 'unknown' before
   * the first projection. A loss starts the settle window (`noteLoss`). Waits for Redis.
   */
  async checkState(now = Date.now()): Promise<'intact' | 'lost' | 'unknown'> {
    if (await routesProjected(this.redis, this.keys)) {
      this.seenIntact = true;
      return 'intact';
    }
    if (!this.seenIntact) return 'unknown';
    await this.noteLoss(now);
    return 'lost';
  }

  /** This controller has just set the projection mark: from now on its absence is a loss. */
  noteProjected(): void {
    this.seenIntact = true;
  }

  /**
   * Redis lost its data: for REDIS_REBUILD_SETTLE_MS the actual state is incomplete, for this
   * replica and (through RedisKeys.redisRebuilt) for every other. A loss seen again within the
   * window does not extend it.
   */
  async noteLoss(now = Date.now()): Promise<void> {
    if (now < this.settleUntil) return;
    this.settleUntil = now + REDIS_REBUILD_SETTLE_MS;
    await markRedisRebuilt(this.redis, this.keys, REDIS_REBUILD_SETTLE_MS, now);
  }

  /** True while the actual state is being rebuilt after a loss seen by this or another replica. */
  async settling(now = Date.now()): Promise<boolean> {
    return now < this.settleUntil || (await redisRebuilding(this.redis, this.keys));
  }

  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
    this.reads.disconnect();
  }
}
