import { Controller, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import type { Request, Response } from 'express';
import { CurrentActor, type Actor } from '../../auth/actor';
import { TokenGuard } from '../../auth/token.guard';
import { AppsService } from '../../apps/apps.service';
import { RESULT_PREFIX } from '../../storage/pre-receive-hook';
import { spoolSourcePackage } from './source-package';
import { StagingService } from './staging.service';

/**
 * A push without git: the app's directory uploaded as a source package (a tar, gzipped or not;
 * `paas push` from a directory that is not a git repository). The package is checked before
 * anything happens (size, a readable tar, no member unpacking outside the app), then it is staged
 * and deployed exactly like a git push, and the answer streams the build output as text lines,
 * ending with `PAAS-RESULT ok|failed`, like the git hook's endpoint. Needs the developer role.
 */
@Controller('v1/apps/:app')
@UseGuards(TokenGuard)
export class SourceUploadController {
  constructor(
    private readonly apps: AppsService,
    private readonly staging: StagingService,
  ) {}

  @Post('source')
  async upload(@CurrentActor() actor: Actor, @Param('app') app: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    // Errors up to here are JSON answers (404, 403, 422), from the exception filter.
    const found = await this.apps.resolve(actor, app, 'write');
    const spooled = await spoolSourcePackage(req);
    try {
      res.status(200).set({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      res.flushHeaders();
      const say = (line: string) => res.write(line + '\n');
      say(`-----> Received ${spooled.files} files (${(spooled.size / 1024 / 1024).toFixed(1)} MB, sha256 ${spooled.sha256.slice(0, 12)})`);
      let ok = false;
      try {
        // The package's sha256 stands where a git push has its commit (the build's commit_sha).
        ok = await this.staging.stageAndDeploy(actor, found.name, spooled.sha256, createReadStream(spooled.file), say);
      } catch (error) {
        say(`!     ${(error as Error).message}`);
      }
      res.end(`${RESULT_PREFIX}${ok ? 'ok' : 'failed'}\n`);
    } finally {
      await spooled.dispose();
    }
  }
}
