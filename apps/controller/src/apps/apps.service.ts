import { Inject, Injectable } from '@nestjs/common';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { PageRequest } from '../platform/common/pagination';
import type { Actor } from '../auth/actor';
import { AccessService, type SpaceAction } from '../auth/access.service';
import { BlobstoreService } from '../storage/blobstore.service';
import { EventsService } from '../audit/events.service';
import { GitRepositoriesService } from '../storage/git-repositories.service';
import { RouteProjectionService, fqdnOf } from '../routing/route-projection.service';
import { RoutesRepository } from '../routing/routes.repository';
import { RouteHostsRepository } from '../routing/route-hosts.repository';
import { HostOwnershipService } from '../routing/host-ownership.service';
import { CellQueuesService } from '../placement/cell-queues.service';
import { InstancesService } from '../placement/instances.service';
import { AppsRepository, type AppWithSpace } from './apps.repository';
import { appView, type AppView } from './app-view';

@Injectable()
export class AppsService {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly apps: AppsRepository,
    private readonly access: AccessService,
    private readonly events: EventsService,
    private readonly repos: GitRepositoriesService,
    private readonly routes: RoutesRepository,
    private readonly projection: RouteProjectionService,
    private readonly hostOwners: RouteHostsRepository,
    private readonly ownership: HostOwnershipService,
    private readonly instances: InstancesService,
    private readonly blobs: BlobstoreService,
    private readonly queues: CellQueuesService,
  ) {}

  view(app: AppWithSpace): AppView {
    return appView(app, this.config.routerUrl, this.config.appsDomain, this.config.url);
  }

  /** The app by id or name, if the actor may do `action` on it (404 when it may not see it, 403 when it may not change it). */
  async resolve(actor: Actor, idOrName: string, action: SpaceAction): Promise<AppWithSpace> {
    const app = await this.apps.find(idOrName);
    if (!app) throw notFound('app', idOrName, 'list your apps with GET /v1/apps');
    await this.access.require(actor, app.spaceId, action, 'app', idOrName);
    return app;
  }

  /** Creates the app, its web process and (unless no_route) its default route NAME.<apps domain>. */
  async create(actor: Actor, input: { name: string; space_id?: string; no_route?: boolean }): Promise<AppView> {
    const spaceId = input.space_id ?? (await this.apps.defaultSpaceId());
    if (input.space_id && !(await this.apps.spaceExists(input.space_id))) throw notFound('space', input.space_id);
    await this.access.require(actor, spaceId, 'write', 'space', input.space_id ?? 'default');
    const domain = await this.routes.ensureSharedDomain(this.config.appsDomain);
    const fqdn = fqdnOf(input.name, domain.name);
    if (!input.no_route) {
      // The app's route NAME.<apps domain> follows the host rule like any route (checked early for a clear answer, then race-free below).
      const owner = await this.hostOwners.ownerOf({ domainId: domain.id, host: input.name });
      if (owner && owner !== spaceId) throw await this.noDefaultRoute(actor, fqdn, owner);
    }
    const created = await this.apps.create(spaceId, input.name);
    if (!created) {
      throw new DomainException(ErrorCode.AppNameTaken, `an app named ${input.name} already exists: choose another name or push to it`);
    }
    const app = (await this.apps.find(created.id))!;
    if (!input.no_route) {
      const result = await this.routes.createRoute(spaceId, domain.id, input.name, '');
      if (result.kind === 'host-taken' || result.route.spaceId !== spaceId) {
        // Another space took the host meanwhile (or holds the route from before host ownership): no half-made app stays.
        await this.apps.delete(app.id);
        throw await this.noDefaultRoute(actor, fqdn, result.kind === 'host-taken' ? result.ownerSpaceId : result.route.spaceId);
      }
      await this.routes.addDestination(result.route.id, app.id, 'web', 8080);
      await this.projection.syncHost(fqdn);
    }
    await this.repos.create(app.name);
    await this.events.record(actor, 'app-created', { type: 'app', id: app.id, name: app.name, spaceId }, { route: !input.no_route });
    this.logger.info({ app: app.name }, 'app-created');
    return this.view(app);
  }

  async list(actor: Actor, filter: { spaceIds?: string[]; names?: string[] }, page: PageRequest): Promise<{ apps: AppView[]; total: number }> {
    const visible = await this.access.visibleSpaceIds(actor);
    const spaceIds = visible === undefined ? filter.spaceIds : filter.spaceIds ? filter.spaceIds.filter((s) => visible.includes(s)) : visible;
    const { apps, total } = await this.apps.list({ spaceIds, names: filter.names }, page.skip, page.take);
    return { apps: apps.map((a) => this.view(a)), total };
  }

  async rename(actor: Actor, idOrName: string, name: string): Promise<AppView> {
    const app = await this.resolve(actor, idOrName, 'write');
    if (name === app.name) return this.view(app);
    if (!(await this.apps.rename(app.id, name))) {
      throw new DomainException(ErrorCode.AppNameTaken, `an app named ${name} already exists: choose another name`);
    }
    await this.repos.rename(app.name, name);
    await this.events.record(actor, 'app-renamed', { type: 'app', id: app.id, name, spaceId: app.spaceId }, { from: app.name, to: name });
    return this.view((await this.apps.find(app.id))!);
  }

  /** The 409 for an app whose default route's host another space owns. */
  private noDefaultRoute(actor: Actor, fqdn: string, ownerSpaceId: string): Promise<DomainException> {
    return this.ownership.takenError(actor, fqdn, ownerSpaceId, `the app's route ${fqdn} cannot be made: choose another app name, or create the app with "no_route": true`);
  }

  /** Withdraws the app from its routes, stops every container, then forgets the app, its repository and blobs. */
  async delete(actor: Actor, idOrName: string): Promise<void> {
    const app = await this.resolve(actor, idOrName, 'write');
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
