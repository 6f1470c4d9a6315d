import { Inject, Injectable } from '@nestjs/common';
import { leaseHeld, requestDeployCancel } from '@paas/redis';
import type { Deployment } from '../../generated/prisma/client';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../../platform/config/controller-config';
import { DomainException, ErrorCode, notFound } from '../../platform/common/domain.exception';
import { RedisService } from '../../platform/redis/redis.module';
import type { Actor } from '../../auth/actor';
import type { AppWithSpace } from '../../apps/apps.repository';
import { EventsService } from '../../audit/events.service';
import { abortableSleep } from '../cancel-watch';
import { HEALTH_POLL_MS } from '../deployment-run';
import { DeploymentsRepository } from '../deployments.repository';

/** A cancel request stays this long (a deployment never runs longer). */
const CANCEL_KEY_TTL_S = 3600;
/** How long a cancel request waits for the deployment to stop before it answers. */
const CANCEL_WAIT_MS = 15_000;

/**
 * One write: `POST /v1/apps/:app/deployments/:id/cancel`. Asks a running deployment to stop (from
 * any replica: a key in Redis its CancelWatch polls): it removes the instances it started, the
 * previous release keeps serving, and it ends CANCELED. One whose controller stopped (no lease) is
 * marked CANCELED here. Waits (bounded) for it to stop and returns the deployment as it then is.
 * 404 for an unknown id, 409 when it is not running.
 */
@Injectable()
export class CancelDeployment {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly deployments: DeploymentsRepository,
    private readonly events: EventsService,
    private readonly redis: RedisService,
  ) {}

  async run(actor: Actor, app: AppWithSpace, deploymentId: string): Promise<Deployment> {
    const deployment = /^[0-9a-f-]{36}$/i.test(deploymentId) ? await this.deployments.find(deploymentId) : null;
    if (!deployment || deployment.appId !== app.id) {
      throw notFound('deployment', deploymentId, `list the deployments of ${app.name} with GET /v1/apps/${app.name}/deployments`);
    }
    if (deployment.state !== 'DEPLOYING') {
      throw new DomainException(
        ErrorCode.DeploymentNotRunning,
        `deployment ${deployment.id} of ${app.name} is not running (it ended ${deployment.state}): only a running deployment can be canceled; ` +
          `to undo a finished one, roll back with POST /v1/apps/${app.name}/actions/rollback`,
      );
    }
    await requestDeployCancel(this.redis.redis, this.redis.keys, deployment.id, actor.name, CANCEL_KEY_TTL_S);
    await this.events.record(actor, 'deploy-cancel-requested', { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId }, {
      deployment_id: deployment.id,
    });
    this.logger.info({ app: app.name, deployment: deployment.id, by: actor.name }, 'deploy-cancel-requested');
    // No controller runs a deployment without a lease (its controller stopped): nobody would notice the key.
    if (await this.orphaned(deployment)) {
      await this.deployments.finish(deployment.id, 'CANCELED', `canceled by ${actor.name} (the controller running it had stopped)`);
    }
    const deadline = Date.now() + CANCEL_WAIT_MS;
    let latest = deployment;
    while (Date.now() < deadline) {
      latest = (await this.deployments.find(deployment.id)) ?? latest;
      if (latest.state !== 'DEPLOYING') break;
      await abortableSleep(HEALTH_POLL_MS);
    }
    return latest;
  }

  /** True when nobody runs the deployment any more: no lease, and not just begun. */
  private async orphaned(d: Deployment): Promise<boolean> {
    if (Date.now() - d.updatedAt.getTime() < this.config.leases.ttlMs) return false;
    return !(await leaseHeld(this.redis.redis, this.redis.keys.deployLease(d.id)));
  }
}
