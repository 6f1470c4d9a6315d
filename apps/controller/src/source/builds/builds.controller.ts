import { Controller, Get, Param, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { CurrentActor, type Actor } from '../../auth/actor';
import { TokenGuard } from '../../auth/token.guard';
import { AppsService } from '../../apps/apps.service';
import { DomainException, ErrorCode, notFound } from '../../platform/common/domain.exception';
import { paginated, parsePage } from '../../platform/common/pagination';
import { isUuid } from '../../platform/common/query-params';
import { BUILD_LOG_MAX_BYTES } from './build-log';
import { BuildLogsRepository } from './build-logs.repository';
import { buildView } from './build-view';
import { BuildsRepository } from './builds.repository';

/**
 * An app's builds, newest first, and a build's log: every line the pushing terminal saw (staging
 * output, deploy progress, the result), readable while the push runs and after.
 */
@Controller('v1/apps/:app/builds')
@UseGuards(TokenGuard)
export class BuildsController {
  constructor(
    private readonly apps: AppsService,
    private readonly builds: BuildsRepository,
    private readonly logs: BuildLogsRepository,
  ) {}

  @Get()
  async buildsOf(@CurrentActor() actor: Actor, @Param('app') app: string, @Query() query: Record<string, unknown>) {
    const found = await this.apps.resolve(actor, app, 'read');
    const page = parsePage(query);
    const { builds, total } = await this.builds.list(found.id, page.skip, page.take);
    return paginated(builds.map(buildView), total, page, `/v1/apps/${app}/builds`, query);
  }

  @Get(':id/log')
  async log(
    @CurrentActor() actor: Actor,
    @Param('app') app: string,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ) {
    const format = query.format ?? 'text';
    if (format !== 'text' && format !== 'json') {
      throw new DomainException(ErrorCode.ValidationFailed, `format must be text or json (got ${JSON.stringify(format)})`, [
        { field: 'format', rule: 'text or json' },
      ]);
    }
    const since = query.since === undefined ? 0 : Number(query.since);
    if (!Number.isInteger(since) || since < 0) {
      throw new DomainException(ErrorCode.ValidationFailed, `since must be a line number (0 or more), as in last_seq of an earlier answer (got ${JSON.stringify(query.since)})`, [
        { field: 'since', rule: 'a whole number, 0 or more' },
      ]);
    }
    const found = await this.apps.resolve(actor, app, 'read');
    const build = isUuid(id) ? await this.logs.findBuild(found.id, id) : null;
    if (!build) throw notFound('build', id, `of app ${found.name}: list its builds (newest first) with GET /v1/apps/${found.name}/builds`);
    const lines = await this.logs.lines(build.id, since);
    const lastSeq = lines.at(-1)?.seq ?? since;
    const complete = build.logClosedAt !== null;
    if (format === 'json') {
      return {
        build_id: build.id,
        state: build.state,
        complete,
        dropped_lines: build.logDroppedLines,
        last_seq: lastSeq,
        lines: lines.map((l) => ({ seq: l.seq, text: l.text, time: l.createdAt.toISOString() })),
      };
    }
    res.set({
      'content-type': 'text/plain; charset=utf-8',
      'x-paas-log-complete': String(complete),
      'x-paas-log-last-seq': String(lastSeq),
    });
    const head =
      since === 0 && build.logDroppedLines > 0
        ? [`[${build.logDroppedLines} earlier lines dropped: a build keeps the last ${BUILD_LOG_MAX_BYTES / 1024 / 1024} MB of its log]`]
        : [];
    const body = [...head, ...lines.map((l) => l.text)];
    return body.length ? body.join('\n') + '\n' : '';
  }
}
