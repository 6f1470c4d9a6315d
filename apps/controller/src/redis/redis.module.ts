import { Global, Inject, Injectable, Module, OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { redisKeys, type RedisKeys } from '@paas/contracts';
import { createRedisConnection } from '@paas/redis';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';

/** The controller's Redis connection and its key builders. */
@Injectable()
export class RedisService implements OnModuleDestroy {
  readonly redis: Redis;
  readonly keys: RedisKeys;

  constructor(@Inject(CONTROLLER_CONFIG) readonly config: ControllerConfig) {
    this.redis = createRedisConnection(config.redisUrl, 'controller');
    this.keys = redisKeys(config.redisPrefix);
  }

  /** A new connection for blocking or subscriber use; the caller closes it. */
  duplicate(name: string): Redis {
    return createRedisConnection(this.config.redisUrl, name);
  }

  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
  }
}

@Global()
@Module({ providers: [RedisService], exports: [RedisService] })
export class RedisModule {}
