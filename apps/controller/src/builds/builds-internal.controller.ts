import { Controller, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InternalGuard } from '../auth/token.guard';
import { RESULT_PREFIX } from '../git/pre-receive-hook';
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
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    res.status(200).set({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const say = (line: string) => res.write(line + '\n');
    let ok = false;
    try {
      ok = await this.staging.stageAndDeploy(name, String(commit ?? 'unknown'), req, say);
    } catch (error) {
      say(`!     ${(error as Error).message}`);
    }
    res.end(`${RESULT_PREFIX}${ok ? 'ok' : 'failed'}\n`);
  }
}
