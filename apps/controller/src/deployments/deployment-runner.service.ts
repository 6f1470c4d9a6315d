import { Inject, Injectable } from '@nestjs/common';
import { holdLease } from '@paas/redis';
import type { Deployment } from '../generated/prisma/client';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { RedisService } from '../platform/redis/redis.module';
import type { AppWithSpace } from '../apps/apps.repository';
import type { ReleaseWithDroplet } from '../releases/releases.repository';
import { ReleasePruningService } from '../releases/release-pruning.service';
import { CancelWatch } from './cancel-watch';
import { DeploymentRun, type Say } from './deployment-run';
import { DeploymentSteps } from './deployment-steps';

/**
 * Runs one recorded deployment to its end: holds its lease in Redis while it runs (the
 * DeploymentSweeper fails one whose lease is gone), watches for its cancel request, runs it as a
 * DeploymentRun (deployment-run.ts, which carries its state), then prunes the app's old droplets.
 * Resolves when the release is live; throws when the deployment failed or was canceled.
 */
@Injectable()
export class DeploymentRunner {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly redis: RedisService,
    private readonly steps: DeploymentSteps,
    private readonly pruning: ReleasePruningService,
  ) {}

  async run(deployment: Deployment, app: AppWithSpace, release: ReleaseWithDroplet, say: Say): Promise<void> {
    const lease = await holdLease(this.redis.redis, this.redis.keys.deployLease(deployment.id), this.config.leases.ttlMs);
    const cancel = new CancelWatch(this.redis.redis, this.redis.keys, deployment.id);
    const previousReleaseId = (await this.steps.apps.find(app.id))?.currentReleaseId ?? null;
    await new DeploymentRun(this.steps, { deployment, app, release, previousReleaseId, lease, cancel, say, log: this.logger }).run();
    // Outside the deployment: a failure to prune never fails a deploy that succeeded.
    await this.pruning.pruneApp(app.id).catch((error) => this.logger.warn({ err: error, app: app.name }, 'prune-failed'));
  }
}
