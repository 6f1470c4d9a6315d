import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RedisService } from '../platform/redis/redis.module';

const LEASE_MS = 10_000;

/**
 * Renews the lease if we hold it, else takes it if it is free (atomic): 1 while we lead. One
 * script, so two calls at once (the pass and the presence watch) agree on the answer.
 */
const LEAD = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0`;
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
      this.held = (await this.redis.redis.eval(LEAD, 1, key, this.id, String(LEASE_MS))) === 1;
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
