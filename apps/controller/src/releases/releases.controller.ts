import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { notFound } from '../platform/common/domain.exception';
import { paginated, parsePage } from '../platform/common/pagination';
import { AppsService } from '../apps/apps.service';
import { ReleasesRepository } from './releases.repository';
import { releaseView } from './release-view';

/** An app's releases (droplet + env + process types), newest first; reading needs read access to the app. */
@Controller('v1/apps/:app/releases')
@UseGuards(TokenGuard)
export class ReleasesController {
  constructor(
    private readonly apps: AppsService,
    private readonly releases: ReleasesRepository,
  ) {}

  @Get()
  async releasesOf(@CurrentActor() actor: Actor, @Param('app') app: string, @Query() query: Record<string, unknown>) {
    const found = await this.apps.resolve(actor, app, 'read');
    const page = parsePage(query);
    const { releases, total } = await this.releases.list(found.id, page.skip, page.take);
    return paginated(releases.map((r) => releaseView(r, found.currentReleaseId)), total, page, `/v1/apps/${app}/releases`, query);
  }

  @Get(':version')
  async release(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('version') version: string) {
    const found = await this.apps.resolve(actor, app, 'read');
    const release = await this.releases.findVersion(found.id, Number(version.replace(/^v/, '')) || 0);
    if (!release) throw notFound('release', `${version} of ${found.name}`);
    return releaseView(release, found.currentReleaseId);
  }
}
