import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { logSource } from '@paas/contracts';
import { holdLease } from '@paas/redis';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../../platform/config/controller-config';
import type { Actor } from '../../auth/actor';
import { AppsRepository, type AppWithSpace } from '../../apps/apps.repository';
import { notFound } from '../../platform/common/domain.exception';
import { DeploymentsService } from '../../deployments/deployments.service';
import { EventsService } from '../../audit/events.service';
import { AppLogsService } from '../../platform/app-logs/app-logs.service';
import type { Build } from '../../generated/prisma/client';
import { RedisService } from '../../platform/redis/redis.module';
import { fqdnOf } from '../../routing/route-projection.service';
import { RoutesRepository } from '../../routing/routes.repository';
import { BuildLogWriter } from './build-log';
import { BuildLogsRepository } from './build-logs.repository';
import { BuildsRepository } from './builds.repository';
import { RecordRelease } from './usecases/record-release.usecase';
import { StageBuild, type Say } from './usecases/stage-build.usecase';

function routerPort(routerUrl: string): string {
  const port = new URL(routerUrl).port;
  return port ? `:${port}` : '';
}

/**
 * Push → manifest checked → stage on a cell → droplet → manifest applied with the release →
 * rolling deployment. Every line said to the pusher is also kept as the build's log. The writes
 * are use cases: StageBuild (source to droplet), RecordRelease (droplet to release and deployment).
 */
@Injectable()
export class StagingService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly apps: AppsRepository,
    private readonly builds: BuildsRepository,
    private readonly buildLogs: BuildLogsRepository,
    private readonly stageBuild: StageBuild,
    private readonly recordRelease: RecordRelease,
    private readonly deployments: DeploymentsService,
    private readonly routes: RoutesRepository,
    private readonly redis: RedisService,
    private readonly events: EventsService,
    private readonly appLogs: AppLogsService,
  ) {}

  /** Returns true when the new release runs; `say` receives every line for the pushing user (and the build's log). */
  async stageAndDeploy(actor: Actor, appName: string, commitSha: string, source: Readable, tell: Say): Promise<boolean> {
    const app = await this.apps.find(appName);
    if (!app) throw notFound('app', appName);
    const build = await this.builds.create(app.id, commitSha);
    // Held until the push ends: if this process dies, any replica's BuildSweeperService ends the build.
    const lease = await holdLease(this.redis.redis, this.redis.keys.buildLease(build.id), this.config.leases.ttlMs);
    const log = this.logger.child({ app: app.name, build: build.id });
    const buildLog = new BuildLogWriter(build.id, this.buildLogs, { onError: (err) => log.warn({ err }, 'build-log-write-failed') });
    // The app's log gets the push's lines as STG/0 until the droplet is staged (the deploy has its own lines).
    let staging = true;
    const say: Say = (line) => {
      tell(line);
      buildLog.append(line);
      if (staging) this.appLogs.append(app.id, logSource.staging, line.startsWith('!') ? 'ERR' : 'OUT', line);
    };
    try {
      return await this.push(actor, app, build, commitSha, source, say, log, () => (staging = false));
    } catch (error) {
      // Not a build failure the steps below report themselves (e.g. the upload broke off).
      const message = (error as Error).message;
      await this.builds.markFailed(build.id, message).catch(() => undefined);
      say(`!     ${message}`);
      log.warn({ err: error }, 'push-failed');
      return false;
    } finally {
      await buildLog.close();
      await lease.release();
    }
  }

  private async push(
    actor: Actor,
    app: AppWithSpace,
    build: Build,
    commitSha: string,
    source: Readable,
    say: Say,
    log: Logger,
    /** Staging is over (the droplet is staged): what follows is the deploy. */
    staged: () => void,
  ): Promise<boolean> {
    const fail = async (message: string) => {
      await this.builds.markFailed(build.id, message);
      say(`!     ${message}`);
      say(`!     push rejected: the running release of ${app.name} was left as it was`);
      log.info({ reason: message }, 'build-failed');
      return false;
    };

    const droplet = await this.stageBuild.run(actor, app, build, commitSha, source, say, staged);
    if (!droplet.ok) return fail(droplet.reason);
    let release;
    try {
      const recorded = await this.recordRelease.run(actor, app, droplet, commitSha, say, log);
      release = recorded.release;
      await this.deployments.execute(actor, recorded.deployment, app, release, { wait: true, say });
    } catch (error) {
      return fail((error as Error).message);
    }
    const urls = await this.webUrls(app.id);
    say(
      urls.length
        ? `-----> ${app.name} v${release.version} is live at ${urls.join(', ')}`
        : `-----> ${app.name} v${release.version} runs with no route: bind one with POST /v1/routes/ROUTE_ID/destinations`,
    );
    await this.events.record(actor, 'app-pushed', { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId }, {
      commit: commitSha,
      release: release.version,
      build_id: build.id,
    });
    log.info({ release: release.version }, 'deploy-succeeded');
    return true;
  }

  /** http://host.domain[:port]/path of every route bound to the app's web process. */
  private async webUrls(appId: string): Promise<string[]> {
    const port = routerPort(this.redis.config.routerUrl);
    return (await this.routes.routesOfApp(appId))
      .filter((r) => r.destinations.some((d) => d.appId === appId && d.processType === 'web'))
      .map((r) => `http://${fqdnOf(r.host, r.domain.name)}${port}${r.path || '/'}`);
  }
}
