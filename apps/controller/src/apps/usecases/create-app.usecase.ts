import { Inject, Injectable } from '@nestjs/common';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../../platform/config/controller-config';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { DomainException, ErrorCode, notFound } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { AccessService } from '../../auth/access.service';
import { EventsService } from '../../audit/events.service';
import { GitRepositoriesService } from '../../storage/git-repositories.service';
import { RouteProjectionService, fqdnOf } from '../../routing/route-projection.service';
import { RoutesRepository } from '../../routing/routes.repository';
import { RouteHostsRepository } from '../../routing/route-hosts.repository';
import { HostOwnershipService } from '../../routing/host-ownership.service';
import { AppsRepository } from '../apps.repository';
import { AppsService } from '../apps.service';
import type { AppView } from '../app-view';

/** One write: `POST /v1/apps`, an app with its web process, git repository and (unless no_route) default route. */
@Injectable()
export class CreateApp {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly apps: AppsRepository,
    private readonly appsService: AppsService,
    private readonly access: AccessService,
    private readonly events: EventsService,
    private readonly repos: GitRepositoriesService,
    private readonly routes: RoutesRepository,
    private readonly projection: RouteProjectionService,
    private readonly hostOwners: RouteHostsRepository,
    private readonly ownership: HostOwnershipService,
  ) {}

  /** Creates the app, its web process and (unless no_route) its default route NAME.<apps domain>. */
  async run(actor: Actor, input: { name: string; space_id?: string; no_route?: boolean }): Promise<AppView> {
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
    return this.appsService.view(app);
  }

  /** The 409 for an app whose default route's host another space owns. */
  private noDefaultRoute(actor: Actor, fqdn: string, ownerSpaceId: string): Promise<DomainException> {
    return this.ownership.takenError(actor, fqdn, ownerSpaceId, `the app's route ${fqdn} cannot be made: choose another app name, or create the app with "no_route": true`);
  }
}
