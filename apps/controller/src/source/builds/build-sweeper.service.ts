import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../../platform/config/controller-config';
import { PeriodicPass } from '../../platform/common/periodic-pass';
import { LostLeases } from '../../platform/common/lease';
import { RedisService } from '../../platform/redis/redis.module';
import { CellQueuesService } from '../../placement/cell-queues.service';
import { BuildLogsRepository } from './build-logs.repository';
import { BuildsRepository } from './builds.repository';

/** The reason a build whose controller died ends FAILED with. */
export const ORPHANED_BUILD_REASON = 'the controller staging this build stopped (its lease expired): push again';
/** The last line of the log of a staged build whose push lost its controller during the deploy. */
export function orphanedPushLine(appName: string): string {
  return `!     the controller running this push stopped (its lease expired) before the push ended: see GET /v1/apps/${appName}/deployments for its deploy; push again`;
}

/**
 * Ends the pushes whose controller stopped (a push is run by the replica that received it, and
 * holds the lease `build-lease:BUILD` while it runs, see StagingService). On every replica, every
 * PAAS_LEASE_SWEEP_INTERVAL_MS: a build still STAGING whose lease is lost becomes FAILED with
 * ORPHANED_BUILD_REASON, its stage job is withdrawn from its cell's queue if the cell has not
 * taken it, and its log gets the reason as last line and is marked complete (a staged build whose
 * push died during the deploy gets a last line and its log closed too; its deployment has its own lease and
 * sweeper, DeploymentSweeper). Safe on several replicas at once: each step is conditional.
 */
@Injectable()
export class BuildSweeperService implements OnModuleInit, OnModuleDestroy {
  private readonly lostLeases: LostLeases;
  private readonly loop: PeriodicPass;

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly builds: BuildsRepository,
    private readonly buildLogs: BuildLogsRepository,
    private readonly queues: CellQueuesService,
    private readonly redis: RedisService,
  ) {
    this.lostLeases = new LostLeases(redis.redis, config.leases.ttlMs);
    this.loop = new PeriodicPass(() => this.sweep(), 'build-sweep-failed', logger);
  }

  onModuleInit(): void {
    this.loop.start(this.config.leases.sweepIntervalMs);
  }

  onModuleDestroy(): void {
    this.loop.stop();
  }

  /** One pass; returns the ids of the builds it ended (for tests). */
  async sweep(): Promise<string[]> {
    const candidates = await this.builds.unfinishedBefore(new Date(Date.now() - this.config.leases.ttlMs));
    this.lostLeases.keepOnly(candidates.map((b) => b.id));
    const ended: string[] = [];
    for (const build of candidates) {
      if (!(await this.lostLeases.lost(build.id, this.redis.keys.buildLease(build.id)))) continue;
      if (build.state === 'STAGING' && (await this.builds.failIfStaging(build.id, ORPHANED_BUILD_REASON))) {
        const job = build.cellId ? await this.queues.withdrawStage(build.cellId, build.id).catch(() => 'unknown') : 'absent';
        this.logger.warn({ build: build.id, app: build.appId, cell: build.cellId, stageJob: job }, 'build-orphaned');
        await this.buildLogs.appendAndCloseOrphaned(build.id, `!     ${ORPHANED_BUILD_REASON}`);
      } else if (build.state === 'STAGED') {
        await this.buildLogs.appendAndCloseOrphaned(build.id, orphanedPushLine(build.app.name));
      } else {
        // FAILED, its failure already said: only the close was missing.
        await this.buildLogs.closeOrphaned(build.id);
      }
      ended.push(build.id);
    }
    return ended;
  }
}
