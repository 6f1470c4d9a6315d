import { Injectable } from '@nestjs/common';
import { DomainException, ErrorCode } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { AppsRepository } from '../../apps/apps.repository';
import { AppsService } from '../../apps/apps.service';
import { EventsService } from '../../audit/events.service';
import { DeploymentsService } from '../../deployments/deployments.service';
import { ReleasesRepository } from '../../releases/releases.repository';
import { appTarget } from '../../apps/app-target';
import type { ChangeResult } from '@paas/contracts';

/** One write: `POST /v1/apps/:app/actions/restart`, a rolling restart: new instances of the current release replace the running ones. */
@Injectable()
export class RestartApp {
  constructor(
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsService,
    private readonly events: EventsService,
  ) {}

  async run(actor: Actor, idOrName: string): Promise<ChangeResult> {
    const app = await this.apps.resolve(actor, idOrName, 'write');
    const current = app.currentReleaseId ? await this.releases.find(app.currentReleaseId) : null;
    if (!current) throw new DomainException(ErrorCode.Unprocessable, `${app.name} has no release yet: push it first`);
    await this.appsRepo.setState(app.id, 'STARTED');
    const deployment = await this.deployments.deploy(actor, app, current, { wait: false });
    await this.events.record(actor, 'app-restarted', appTarget(app));
    return { release_version: current.version, deployment_id: deployment.id };
  }
}
