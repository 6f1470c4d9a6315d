import { Inject, Injectable } from '@nestjs/common';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { PageRequest } from '../platform/common/pagination';
import type { Actor } from '../auth/actor';
import { AccessService, type SpaceAction } from '../auth/access.service';
import { EventsService } from '../audit/events.service';
import { GitRepositoriesService } from '../storage/git-repositories.service';
import { AppsRepository, type AppWithSpace } from './apps.repository';
import { appView, type AppView } from './app-view';

/**
 * An app as its callers find it: resolved with the caller's access checked, listed, viewed, renamed.
 * Creating and deleting one are use cases of their own (usecases/create-app, usecases/delete-app).
 */
@Injectable()
export class AppsService {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly apps: AppsRepository,
    private readonly access: AccessService,
    private readonly events: EventsService,
    private readonly repos: GitRepositoriesService,
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
}
