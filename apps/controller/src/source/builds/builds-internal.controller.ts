import { Controller, Headers, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Actor } from '../../auth/actor';
import type { Request, Response } from 'express';
import { InternalGuard } from '../../auth/token.guard';
import { RESULT_PREFIX } from '../../storage/pre-receive-hook';
import { StagingService } from './staging.service';

/** Internal: the git pre-receive hook posts the pushed commit here and relays the streamed output. */
@Controller('internal/v1/apps')
@UseGuards(InternalGuard)
export class BuildsInternalController {
  constructor(private readonly staging: StagingService) {}

  @Post(':name/builds')
  async build(
    @Param('name') name: string,
    @Query('commit') commit: string,
    @Headers('x-paas-actor') actorHeader: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    res.status(200).set({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const say = (line: string) => res.write(line + '\n');
    let ok = false;
    try {
      const actor = parseActor(actorHeader);
      ok = await this.staging.stageAndDeploy(actor, name, String(commit ?? 'unknown'), req, say);
    } catch (error) {
      say(`!     ${(error as Error).message}`);
    }
    res.end(`${RESULT_PREFIX}${ok ? 'ok' : 'failed'}\n`);
  }
}

/** The pusher, as the git controller passed it through the hook (base64 JSON). */
function parseActor(header: string | undefined): Actor {
  try {
    const value = JSON.parse(Buffer.from(header ?? '', 'base64').toString()) as Actor;
    if (typeof value.userId === 'string' && typeof value.name === 'string') return { userId: value.userId, name: value.name, isAdmin: !!value.isAdmin };
  } catch {
    // fall through
  }
  return { userId: '00000000-0000-0000-0000-000000000000', name: 'unknown pusher', isAdmin: false };
}
