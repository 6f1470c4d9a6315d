import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RedisService } from '../redis/redis.module';

const LEASE_MS = 10_000;

/** Renews the lease only if we still hold it (atomic check-and-extend). */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * One convergence leader across controller replicas: a Redis lease (SET NX PX) held by one
 * replica and renewed while it lives; another replica takes over within LEASE_MS of its death.
 */
@Injectable()
export class LeaderElectionService implements OnModuleDestroy {
  readonly id = randomUUID();
  private held = false;

  constructor(private readonly redis: RedisService) {}

  /** Acquires or renews the lease; true while this replica leads. Call at least every LEASE_MS / 2; safe to call concurrently. */
  async tryLead(): Promise<boolean> {
    const key = this.redis.keys.convergerLeader;
    try {
      // Renew first whatever `held` says: two calls at once (the pass and the presence watch)
      // must not talk each other out of a lease that one of them just took.
      const renewed = (await this.redis.redis.eval(RENEW, 1, key, this.id, String(LEASE_MS))) === 1;
      this.held = renewed || (await this.redis.redis.set(key, this.id, 'PX', LEASE_MS, 'NX')) === 'OK';
    } catch {
      this.held = false;
    }
    return this.held;
  }

  get isLeader(): boolean {
    return this.held;
  }

  async onModuleDestroy(): Promise<void> {
    if (this.held) await this.redis.redis.eval(RELEASE, 1, this.redis.keys.convergerLeader, this.id).catch(() => undefined);
    this.held = false;
  }
}
