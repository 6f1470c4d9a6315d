import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import type { Actor } from '../../auth/actor';
import { BlobstoreService } from '../../storage/blobstore.service';
import { EventsService } from '../../audit/events.service';
import { GitRepositoriesService } from '../../storage/git-repositories.service';
import { RouteProjectionService, fqdnOf } from '../../routing/route-projection.service';
import { RoutesRepository } from '../../routing/routes.repository';
import { CellQueuesService } from '../../placement/cell-queues.service';
import { InstancesService } from '../../placement/instances.service';
import { AppsRepository } from '../apps.repository';
import { AppsService } from '../apps.service';
import { AppDeletionHooks } from '../app-deletion-hooks';

/** One write: `DELETE /v1/apps/:app`, the app and everything it has, routes first, then its instances. */
@Injectable()
export class DeleteApp {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly apps: AppsRepository,
    private readonly appsService: AppsService,
    private readonly events: EventsService,
    private readonly repos: GitRepositoriesService,
    private readonly routes: RoutesRepository,
    private readonly projection: RouteProjectionService,
    private readonly instances: InstancesService,
    private readonly blobs: BlobstoreService,
    private readonly queues: CellQueuesService,
    private readonly hooks: AppDeletionHooks,
  ) {}

  /** Withdraws the app from its routes, stops every container, then forgets the app, its repository and blobs. */
  async run(actor: Actor, idOrName: string): Promise<void> {
    const app = await this.appsService.resolve(actor, idOrName, 'write');
    const processTypes = (await this.apps.processes(app.id)).map((p) => p.type);
    const routes = await this.routes.routesOfApp(app.id);
    const hosts = routes.map((r) => fqdnOf(r.host, r.domain.name));
    // Routes bound to this app alone go with it (as `cf delete -r`); routes shared with other apps stay.
    const ownRoutes = routes.filter((r) => r.destinations.every((d) => d.appId === app.id)).map((r) => r.id);
    const builds = await this.apps.buildIds(app.id);
    // Stopped first: a convergence pass (which takes the app's row lock, so this waits for one under
    // way) leaves it alone from now on, and never replaces an instance that is stopping for the delete.
    await this.apps.setState(app.id, 'STOPPED');
    // Routes first: traffic stops at once, before any container does.
    await this.instances.forgetAppEndpointsOnly(app.id, processTypes);
    const running = await this.instances.actual(app.id);
    for (const i of running) await this.instances.stop(i, 'app deleted');
    if (!(await this.instances.waitGone(app.id, running.map((i) => i.instanceId)))) {
      this.logger.warn({ app: app.name }, 'some instances did not confirm their stop in time');
    }
    await this.instances.forgetApp(app.id, processTypes);
    // What other modules keep for the app (its service bindings' logins) goes while its row is there.
    await this.hooks.run(app);
    await this.apps.delete(app.id); // cascades to destinations, processes, builds, releases
    await this.routes.deleteRoutes(ownRoutes);
    for (const host of new Set(hosts)) await this.projection.syncHost(host);
    await this.repos.remove(app.name);
    for (const id of builds) {
      await this.blobs.remove('packages', id);
      await this.blobs.remove('droplets', id);
    }
    // Unpacked droplets left the cells with the instances; the build cache of the app goes too.
    await this.queues.forgetApp({ appId: app.id }).catch((e) => this.logger.warn({ err: e, app: app.name }, 'cells-not-told-to-forget-app'));
    await this.events.record(actor, 'app-deleted', { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId }, { stopped: running.length });
  }
}
