import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { rollbackSchema } from './env-rules';
import { RestartApp } from './usecases/restart-app.usecase';
import { RollbackApp } from './usecases/rollback-app.usecase';
import { StartApp } from './usecases/start-app.usecase';
import { StopApp } from './usecases/stop-app.usecase';

/**
 * An app's actions: start, stop, restart, rollback. Builds, releases and deployments have their
 * own controllers (source/, releases/, deployments/).
 */
@Controller('v1/apps/:app/actions')
@UseGuards(TokenGuard)
export class AppActionsController {
  constructor(
    private readonly startApp: StartApp,
    private readonly stopApp: StopApp,
    private readonly restartApp: RestartApp,
    private readonly rollbackApp: RollbackApp,
  ) {}

  @Post('start')
  @HttpCode(202)
  start(@CurrentActor() actor: Actor, @Param('app') app: string) {
    return this.startApp.run(actor, app);
  }

  @Post('stop')
  @HttpCode(202)
  stop(@CurrentActor() actor: Actor, @Param('app') app: string) {
    return this.stopApp.run(actor, app);
  }

  @Post('restart')
  @HttpCode(202)
  restart(@CurrentActor() actor: Actor, @Param('app') app: string) {
    return this.restartApp.run(actor, app);
  }

  @Post('rollback')
  @HttpCode(202)
  rollback(@CurrentActor() actor: Actor, @Param('app') app: string, @Body(new ZodBodyPipe(rollbackSchema)) body: { version: number }) {
    return this.rollbackApp.run(actor, app, body.version);
  }
}
