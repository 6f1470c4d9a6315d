import { Controller, Get, Headers, Param, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import type { LogEntriesResponse } from '@paas/contracts';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { LogsService } from './logs.service';

/** An app's log: the recent lines, and a live stream of server-sent events. `:app` is an id or a name; read access is enough. */
@Controller('v1/apps')
@UseGuards(TokenGuard)
export class LogsController {
  constructor(private readonly logs: LogsService) {}

  @Get(':app/logs')
  recent(@CurrentActor() actor: Actor, @Param('app') app: string, @Query() query: Record<string, unknown>): Promise<LogEntriesResponse> {
    return this.logs.recent(actor, app, query);
  }

  @Get(':app/logs/stream')
  stream(
    @CurrentActor() actor: Actor,
    @Param('app') app: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Query() query: Record<string, unknown>,
    @Res() res: Response,
  ): Promise<void> {
    return this.logs.stream(actor, app, lastEventId, query, res);
  }
}
