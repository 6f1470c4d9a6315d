import { Body, Controller, Get, HttpCode, Param, Patch, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { envPatchSchema, type EnvPatch } from './env-rules';
import { LifecycleService } from './lifecycle.service';
import { UpdateEnv } from './usecases/update-env.usecase';

/** An app's env: read it, patch it (a new release rolls out when the app runs one). */
@Controller('v1/apps/:app/env')
@UseGuards(TokenGuard)
export class EnvController {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly updateEnv: UpdateEnv,
  ) {}

  @Get()
  env(@CurrentActor() actor: Actor, @Param('app') app: string) {
    return this.lifecycle.env(actor, app);
  }

  @Patch()
  @HttpCode(202)
  update(@CurrentActor() actor: Actor, @Param('app') app: string, @Body(new ZodBodyPipe(envPatchSchema)) body: EnvPatch) {
    return this.updateEnv.run(actor, app, body);
  }
}
