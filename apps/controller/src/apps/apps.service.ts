import { Inject, Injectable } from '@nestjs/common';
import { listAppInstances } from '@paas/redis';
import type { ActualInstance } from '@paas/contracts';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { LOGGER, type Logger } from '../config/config.module';
import { DomainException, ErrorCode } from '../common/domain.exception';
import { GitRepositoriesService } from '../git/git-repositories.service';
import { DeployerService } from '../scheduler/deployer.service';
import { RedisService } from '../redis/redis.module';
import { BlobstoreService } from '../blobstore/blobstore.service';
import { AppsRepository, type AppRecord } from './apps.repository';

export interface AppView {
  id: string;
  name: string;
  state: string;
  instances: number;
  memory_mb: number;
  current_release_id: string | null;
  url: string;
  git_url: string;
  created_at: string;
  running_instances?: ActualInstance[];
}

@Injectable()
export class AppsService {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly apps: AppsRepository,
    private readonly repos: GitRepositoriesService,
    private readonly deployer: DeployerService,
    private readonly redis: RedisService,
    private readonly blobs: BlobstoreService,
  ) {}

  async create(name: string): Promise<AppView> {
    const app = await this.apps.create(name);
    if (!app) {
      throw new DomainException(ErrorCode.AppNameTaken, `an app named ${name} already exists: choose another name or push to it`);
    }
    await this.repos.create(name);
    this.logger.info({ app: name }, 'app-created');
    return this.view(app);
  }

  async list(): Promise<AppView[]> {
    return (await this.apps.list()).map((a) => this.view(a));
  }

  async get(name: string): Promise<AppView> {
    const app = await this.require(name);
    const instances = await listAppInstances(this.redis.redis, this.redis.keys, app.id);
    return { ...this.view(app), running_instances: instances };
  }

  async require(name: string): Promise<AppRecord> {
    const app = await this.apps.findByName(name);
    if (!app) throw new DomainException(ErrorCode.AppNotFound, `no app named ${name}: create it with POST /v1/apps {"name": "${name}"}`);
    return app;
  }

  /** Withdraws the routes, stops every container, then forgets the app, its repository and blobs. */
  async delete(name: string): Promise<void> {
    const app = await this.require(name);
    await this.deployer.withdrawRoutes(app.id, app.name);
    const stopping = await this.deployer.stopInstances(app.id, [], 'app deleted');
    const gone = await this.deployer.waitGone(app.id, stopping.map((i) => i.instanceId));
    if (!gone) this.logger.warn({ app: name }, 'some instances did not confirm their stop in time');
    await this.deployer.forgetApp(app.id, app.name);
    const builds = await this.apps.buildIds(app.id);
    await this.apps.delete(app.id);
    for (const id of builds) {
      await this.blobs.remove('packages', id);
      await this.blobs.remove('droplets', id);
    }
    await this.repos.remove(app.name);
    this.logger.info({ app: name, stopped: stopping.length }, 'app-deleted');
  }

  view(app: AppRecord): AppView {
    const routerUrl = new URL(this.config.routerUrl);
    const port = routerUrl.port ? `:${routerUrl.port}` : '';
    return {
      id: app.id,
      name: app.name,
      state: app.state,
      instances: app.instances,
      memory_mb: app.memoryMb,
      current_release_id: app.currentReleaseId,
      url: `${routerUrl.protocol}//${this.deployer.hostOf(app.name)}${port}/`,
      git_url: `${this.config.url}/git/${app.name}.git`,
      created_at: app.createdAt.toISOString(),
    };
  }
}
