import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { releaseConvergenceLead, tryLeadConvergence } from '@paas/redis';
import { RedisService } from '../platform/redis/redis.module';

const LEASE_MS = 10_000;

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
    try {
      this.held = await tryLeadConvergence(this.redis.redis, this.redis.keys, this.id, LEASE_MS);
    } catch {
      this.held = false;
    }
    return this.held;
  }

  get isLeader(): boolean {
    return this.held;
  }

  async onModuleDestroy(): Promise<void> {
    if (this.held) await releaseConvergenceLead(this.redis.redis, this.redis.keys, this.id).catch(() => undefined);
    this.held = false;
  }
}
