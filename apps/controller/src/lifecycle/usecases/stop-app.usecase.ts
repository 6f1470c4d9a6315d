import { Injectable } from '@nestjs/common';
import type { Actor } from '../../auth/actor';
import { AppsRepository } from '../../apps/apps.repository';
import { AppsService } from '../../apps/apps.service';
import { EventsService } from '../../audit/events.service';
import { DeploymentsService } from '../../deployments/deployments.service';
import { InstancesService } from '../../placement/instances.service';
import { appTarget } from '../../apps/app-target';
import type { ChangeResult } from '@paas/contracts';

/** One write: `POST /v1/apps/:app/actions/stop`. The app is STOPPED and every instance stops; 409 while a deployment runs. */
@Injectable()
export class StopApp {
  constructor(
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
    private readonly deployments: DeploymentsService,
    private readonly instances: InstancesService,
    private readonly events: EventsService,
  ) {}

  async run(actor: Actor, idOrName: string): Promise<ChangeResult> {
    const app = await this.apps.resolve(actor, idOrName, 'write');
    await this.deployments.refuseWhileDeploying(app);
    await this.appsRepo.setState(app.id, 'STOPPED');
    for (const i of await this.instances.actual(app.id)) await this.instances.stop(i, 'app stopped');
    await this.events.record(actor, 'app-stopped', appTarget(app));
    return { release_version: null, deployment_id: null };
  }
}
