import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { AppsService } from '../apps/apps.service';
import { AppsRepository } from '../apps/apps.repository';
import { ReleasesRepository } from '../releases/releases.repository';
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
import { instanceListView, processView } from './views';

/**
 * An app's env, processes and scale, instances, and its actions (start, stop, restart, rollback).
 * Builds, releases and deployments have their own controllers (source/, releases/, deployments/).
 */
@Controller('v1/apps/:app')
@UseGuards(TokenGuard)
export class LifecycleController {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
    private readonly releases: ReleasesRepository,
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
