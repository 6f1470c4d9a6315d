import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { processUpdateSchema, scaleSchema, type ProcessUpdate, type ScaleRequest } from './env-rules';
import { LifecycleService } from './lifecycle.service';
import { ScaleProcess } from './usecases/scale-process.usecase';
import { UpdateProcess } from './usecases/update-process.usecase';
import { processView } from './views';

/** An app's process types: list, read, update (command, health check), scale. */
@Controller('v1/apps/:app/processes')
@UseGuards(TokenGuard)
export class ProcessesController {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly updateProcess: UpdateProcess,
    private readonly scaleProcess: ScaleProcess,
  ) {}

  @Get()
  async processes(@CurrentActor() actor: Actor, @Param('app') app: string) {
    return { resources: (await this.lifecycle.processes(actor, app)).processes.map(processView) };
  }

  @Get(':type')
  async process(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('type') type: string) {
    return processView((await this.lifecycle.process(actor, app, type, 'read')).process);
  }

  @Patch(':type')
  async update(
    @CurrentActor() actor: Actor,
    @Param('app') app: string,
    @Param('type') type: string,
    @Body(new ZodBodyPipe(processUpdateSchema)) body: ProcessUpdate,
  ) {
    return processView(await this.updateProcess.run(actor, app, type, body));
  }

  @Post(':type/actions/scale')
  @HttpCode(202)
  async scale(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('type') type: string, @Body(new ZodBodyPipe(scaleSchema)) body: ScaleRequest) {
    const result = await this.scaleProcess.run(actor, app, type, body);
    return { ...processView(result.process), release_version: result.release_version, deployment_id: result.deployment_id };
  }
}
