import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { notFound } from '../platform/common/domain.exception';
import { paginated, parsePage } from '../platform/common/pagination';
import { AppsService } from '../apps/apps.service';
import { AppsRepository } from '../apps/apps.repository';
import { DeploymentsRepository } from '../deployments/deployments.repository';
import { ReleasesRepository } from '../releases/releases.repository';
import { BuildsRepository } from '../builds/builds.repository';
import { InstancesService } from '../placement/instances.service';
import {
  envPatchSchema,
  processUpdateSchema,
  rollbackSchema,
  scaleSchema,
  type EnvPatch,
  type ProcessUpdate,
  type ScaleRequest,
} from './env-rules';
import { LifecycleService } from './lifecycle.service';
import { buildView, deploymentView, instanceListView, processView, releaseView } from './views';

/** Everything under an app: env, processes and scale, instances, builds, releases, deployments, actions. */
@Controller('v1/apps/:app')
@UseGuards(TokenGuard)
export class LifecycleController {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsRepository,
    private readonly builds: BuildsRepository,
    private readonly instances: InstancesService,
  ) {}

  @Get('env')
  env(@CurrentActor() actor: Actor, @Param('app') app: string) {
    return this.lifecycle.env(actor, app);
  }

  @Patch('env')
  @HttpCode(202)
  updateEnv(@CurrentActor() actor: Actor, @Param('app') app: string, @Body(new ZodBodyPipe(envPatchSchema)) body: EnvPatch) {
    return this.lifecycle.updateEnv(actor, app, body);
  }

  @Get('processes')
  async processes(@CurrentActor() actor: Actor, @Param('app') app: string) {
    const found = await this.apps.resolve(actor, app, 'read');
    return { resources: (await this.appsRepo.processes(found.id)).map(processView) };
  }

  @Get('processes/:type')
  async process(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('type') type: string) {
    return processView((await this.lifecycle.process(actor, app, type, 'read')).process);
  }

  @Patch('processes/:type')
  async updateProcess(
    @CurrentActor() actor: Actor,
    @Param('app') app: string,
    @Param('type') type: string,
    @Body(new ZodBodyPipe(processUpdateSchema)) body: ProcessUpdate,
  ) {
    return processView(await this.lifecycle.updateProcess(actor, app, type, body));
  }

  @Post('processes/:type/actions/scale')
  @HttpCode(202)
  async scale(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('type') type: string, @Body(new ZodBodyPipe(scaleSchema)) body: ScaleRequest) {
    const result = await this.lifecycle.scale(actor, app, type, body);
    return { ...processView(result.process), release_version: result.release_version, deployment_id: result.deployment_id };
  }

  @Get('processes/:type/instances')
  async processInstances(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('type') type: string) {
    const { app: found, process } = await this.lifecycle.process(actor, app, type, 'read');
    const all = await this.instances.observed(found.id);
    const limits = new Map([[process.type, { memoryMb: process.memoryMb, diskMb: process.diskMb, instances: found.state === 'STARTED' ? process.instances : 0 }]]);
    const releaseVersions = await this.releases.versionsOf(found.id, all.map((i) => i.releaseId));
    return instanceListView(all, await this.instances.history(found.id), { processType: type, limits, releaseVersions });
  }

  @Get('instances')
  async instancesOf(@CurrentActor() actor: Actor, @Param('app') app: string) {
    const found = await this.apps.resolve(actor, app, 'read');
    const limits = new Map((await this.appsRepo.processes(found.id)).map((p) => [p.type, { memoryMb: p.memoryMb, diskMb: p.diskMb, instances: found.state === 'STARTED' ? p.instances : 0 }]));
    const all = await this.instances.observed(found.id);
    const releaseVersions = await this.releases.versionsOf(found.id, all.map((i) => i.releaseId));
    return instanceListView(all, await this.instances.history(found.id), { limits, releaseVersions });
  }

  @Get('builds')
  async buildsOf(@CurrentActor() actor: Actor, @Param('app') app: string, @Query() query: Record<string, unknown>) {
    const found = await this.apps.resolve(actor, app, 'read');
    const page = parsePage(query);
    const { builds, total } = await this.builds.list(found.id, page.skip, page.take);
    return paginated(builds.map(buildView), total, page, `/v1/apps/${app}/builds`, query);
  }

  @Get('releases')
  async releasesOf(@CurrentActor() actor: Actor, @Param('app') app: string, @Query() query: Record<string, unknown>) {
    const found = await this.apps.resolve(actor, app, 'read');
    const page = parsePage(query);
    const { releases, total } = await this.releases.list(found.id, page.skip, page.take);
    return paginated(releases.map((r) => releaseView(r, found.currentReleaseId)), total, page, `/v1/apps/${app}/releases`, query);
  }

  @Get('releases/:version')
  async release(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('version') version: string) {
    const found = await this.apps.resolve(actor, app, 'read');
    const release = await this.releases.findVersion(found.id, Number(version.replace(/^v/, '')) || 0);
    if (!release) throw notFound('release', `${version} of ${found.name}`);
    return releaseView(release, found.currentReleaseId);
  }

  @Get('deployments')
  async deploymentsOf(@CurrentActor() actor: Actor, @Param('app') app: string, @Query() query: Record<string, unknown>) {
    const found = await this.apps.resolve(actor, app, 'read');
    const page = parsePage(query);
    const { deployments, total } = await this.deployments.list(found.id, page.skip, page.take);
    return paginated(deployments.map(deploymentView), total, page, `/v1/apps/${app}/deployments`, query);
  }

  @Get('deployments/:id')
  async deployment(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('id') id: string) {
    const found = await this.apps.resolve(actor, app, 'read');
    const deployment = /^[0-9a-f-]{36}$/i.test(id) ? await this.deployments.find(id) : null;
    if (!deployment || deployment.appId !== found.id) throw notFound('deployment', id);
    return deploymentView(deployment);
  }

  /** Cancels a running deployment: it stops at its next step, removes its new instances, and ends CANCELED. */
  @Post('deployments/:id/cancel')
  @HttpCode(202)
  async cancelDeployment(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('id') id: string) {
    return deploymentView(await this.lifecycle.cancelDeployment(actor, app, id));
  }

  @Post('actions/start')
  @HttpCode(202)
  start(@CurrentActor() actor: Actor, @Param('app') app: string) {
    return this.lifecycle.start(actor, app);
  }

  @Post('actions/stop')
  @HttpCode(202)
  stop(@CurrentActor() actor: Actor, @Param('app') app: string) {
    return this.lifecycle.stop(actor, app);
  }

  @Post('actions/restart')
  @HttpCode(202)
  restart(@CurrentActor() actor: Actor, @Param('app') app: string) {
    return this.lifecycle.restart(actor, app);
  }

  @Post('actions/rollback')
  @HttpCode(202)
  rollback(@CurrentActor() actor: Actor, @Param('app') app: string, @Body(new ZodBodyPipe(rollbackSchema)) body: { version: number }) {
    return this.lifecycle.rollback(actor, app, body.version);
  }
}
