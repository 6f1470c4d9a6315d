import { Injectable } from '@nestjs/common';
import type { Actor } from '../../auth/actor';
import { AppsRepository } from '../../apps/apps.repository';
import { AppsService } from '../../apps/apps.service';
import { EventsService } from '../../audit/events.service';
import { ReleasesRepository } from '../../releases/releases.repository';
import { appTarget } from '../../apps/app-target';
import type { ChangeResult } from '@paas/contracts';
import { ProcessReconciler } from '../process-reconciler';

/** One write: `POST /v1/apps/:app/actions/start`. The app is STARTED; its current release's instances start (under its row lock), no deployment. */
@Injectable()
export class StartApp {
  constructor(
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
    private readonly releases: ReleasesRepository,
    private readonly events: EventsService,
    private readonly reconciler: ProcessReconciler,
  ) {}

  async run(actor: Actor, idOrName: string): Promise<ChangeResult> {
    const app = await this.apps.resolve(actor, idOrName, 'write');
    await this.appsRepo.setState(app.id, 'STARTED');
    await this.events.record(actor, 'app-started', appTarget(app));
    const current = app.currentReleaseId ? await this.releases.find(app.currentReleaseId) : null;
    if (!current) return { release_version: null, deployment_id: null };
    await this.appsRepo.withLock(app.id, async () => {
      for (const process of await this.appsRepo.processes(app.id)) await this.reconciler.reconcile(app, current, process);
    });
    return { release_version: current.version, deployment_id: null };
  }
}
