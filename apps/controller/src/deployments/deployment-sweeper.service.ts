import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { PeriodicPass } from '../platform/common/periodic-pass';
import { LostLeases } from '../platform/common/lease';
import { RedisService } from '../platform/redis/redis.module';
import { DeploymentsRepository } from './deployments.repository';

/**
 * Marks FAILED the deployments whose controller stopped while running them: a running deployment
 * holds a lease in Redis (DeploymentRunner); one whose lease is gone is orphaned. Runs on every
 * replica, every leases.sweepIntervalMs; safe on several at once (finishing is conditional).
 */
@Injectable()
export class DeploymentSweeper implements OnModuleInit, OnModuleDestroy {
  private lostLeases?: LostLeases;
  private readonly loop: PeriodicPass;

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly deployments: DeploymentsRepository,
    private readonly redis: RedisService,
  ) {
    this.loop = new PeriodicPass(() => this.sweep(), 'deployment-sweep-failed', logger);
  }

  onModuleInit(): void {
    this.loop.start(this.config.leases.sweepIntervalMs);
  }

  onModuleDestroy(): void {
    this.loop.stop();
  }

  /** Marks as FAILED the deployments whose controller stopped while running them (no lease). */
  async sweep(): Promise<void> {
    this.lostLeases ??= new LostLeases(this.redis.redis, this.config.leases.ttlMs);
    const active = await this.deployments.allActive();
    this.lostLeases.keepOnly(active.map((d) => d.id));
    for (const d of active) {
      if (Date.now() - d.updatedAt.getTime() < this.config.leases.ttlMs) continue;
      if (!(await this.lostLeases.lost(d.id, this.redis.keys.deployLease(d.id)))) continue;
      await this.deployments.finish(
        d.id,
        'FAILED',
        'the controller running this deployment stopped (its lease expired): the previous release keeps serving; deploy again',
      );
      this.logger.warn({ deployment: d.id, app: d.appId }, 'deployment-orphaned');
    }
  }
}
