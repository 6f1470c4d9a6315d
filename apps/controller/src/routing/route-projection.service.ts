import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { RouteEntry } from '@paas/contracts';
import { listRouteHosts, markRoutesProjected, routesProjected, writeHostRoutes } from '@paas/redis';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { RedisService } from '../platform/redis/redis.module';
import { RouteProjectionRepository, type HostCandidate } from './route-projection.repository';
import { StoredRoutePathsService } from './stored-route-paths.service';
import { DomainsRepository } from './domains.repository';
import { DomainTokensRepository } from './domain-tokens.repository';

/** How often the controller checks that Redis still holds its projection (RedisKeys.routesProjected). */
export const PROJECTION_CHECK_INTERVAL_MS = 1_000;

/** The fully qualified host of a route: `host.domain`, or the domain itself when host is ''. */
export function fqdnOf(host: string, domain: string): string {
  return host ? `${host}.${domain}` : domain;
}

/**
 * Projects the routes and their destinations (Postgres, the truth) into Redis, where the routers
 * read them. Every change to a route or a destination calls `syncHost`; at boot stored paths are
 * put in normal form (StoredRoutePathsService), everything is re-projected and hosts that no
 * longer have routes are removed, and the verification tokens of pending domains published again
 * (DomainTokensRepository). Only routes in their host's owner space are projected. Idempotent: two controllers
 * doing it at once write the same thing. A full projection ends by setting the projection mark;
 * every PROJECTION_CHECK_INTERVAL_MS the mark is checked, and when Redis lost it (restarted empty,
 * flushed) everything is projected again: the routers, which kept their table meanwhile, get it back.
 */
@Injectable()
export class RouteProjectionService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly repo: RouteProjectionRepository,
    private readonly redis: RedisService,
    private readonly storedPaths: StoredRoutePathsService,
    private readonly domains: DomainsRepository,
    private readonly tokens: DomainTokensRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.storedPaths.normalize();
    // Booting against a Redis without the mark while Postgres has apps that run: Redis lost its
    // data (the whole platform restarted, Redis without persistence), and the cells re-report.
    if (!(await routesProjected(this.redis.redis, this.redis.keys))) {
      const running = await this.repo.runningAppCount();
      if (running > 0) {
        this.logger.warn({ event: 'redis-state-lost', apps: running }, 'redis holds no route projection although apps run: projecting every route; cells re-report their instances');
        await this.redis.noteLoss();
      }
    }
    await this.syncAll();
    this.timer = setInterval(() => void this.checkProjection(), PROJECTION_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Projects everything again when Redis lost the mark; one check at a time; never rejects. */
  async checkProjection(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      if ((await this.redis.checkState()) !== 'lost') return;
      this.logger.warn({ event: 'redis-state-lost' }, 'redis lost its data: projecting every route again; cells re-report their instances');
      await this.syncAll();
    } catch (err) {
      this.logger.warn({ event: 'route-projection-check-failed', err }, 'could not check or restore the route projection: trying again');
    } finally {
      this.checking = false;
    }
  }

  async syncAll(): Promise<void> {
    const routes = await this.repo.allRoutes();
    const hosts = new Set(routes.map((r) => fqdnOf(r.host, r.domain.name)));
    for (const host of hosts) await this.syncHost(host);
    for (const stale of await listRouteHosts(this.redis.redis, this.redis.keys)) {
      if (!hosts.has(stale)) await writeHostRoutes(this.redis.redis, this.redis.keys, stale, []);
    }
    // The routers serve pending domains' verification tokens from Redis too: put them back.
    const pending = await this.domains.pending();
    for (const d of pending) if (d.verificationToken) await this.tokens.publish(d.name, d.verificationToken);
    await markRoutesProjected(this.redis.redis, this.redis.keys);
    this.redis.noteProjected();
    this.logger.info({ hosts: hosts.size, pending_domains: pending.length }, 'routes-projected');
  }

  /** Re-projects every route of one fully qualified host. */
  async syncHost(fqdn: string): Promise<void> {
    const routes = await this.repo.routesOf(this.candidates(fqdn));
    const owners = await this.repo.hostOwners(this.candidates(fqdn));
    const ownerOf = new Map(owners.map((o) => [`${o.domainId}/${o.host}`, o.spaceId]));
    const ofHost = routes.filter((r) => fqdnOf(r.host, r.domain.name) === fqdn);
    // A host belongs to one space: a route kept from before that rule in another space is not served.
    const owned = ofHost.filter((r) => ownerOf.get(`${r.domainId}/${r.host}`) === r.spaceId);
    for (const r of ofHost.filter((x) => !owned.includes(x))) {
      this.logger.warn(
        { event: 'route-not-served', route_id: r.id, host: fqdn, path: r.path, space_id: r.spaceId, owner_space_id: ownerOf.get(`${r.domainId}/${r.host}`) ?? null },
        'a route in another space than its host\'s owner is not served: delete it (DELETE /v1/routes/ID)',
      );
    }
    const entries: RouteEntry[] = owned
      .map((r) => ({
        routeId: r.id,
        host: fqdn,
        path: r.path,
        destinations: r.destinations.map((d) => ({
          id: d.id,
          appId: d.appId,
          processType: d.processType,
          port: d.port,
          ...(d.weight ? { weight: d.weight } : {}),
        })),
        ...(r.httpsRedirect ? { httpsRedirect: true } : {}),
        ...(r.hstsMaxAge !== null ? { hstsMaxAge: r.hstsMaxAge } : {}),
      }));
    await writeHostRoutes(this.redis.redis, this.redis.keys, fqdn, entries);
  }

  /** (host, domain) pairs whose fqdn could be `fqdn`. */
  private candidates(fqdn: string): HostCandidate[] {
    const out: HostCandidate[] = [{ host: '', domain: { name: fqdn } }];
    const dot = fqdn.indexOf('.');
    if (dot > 0) out.push({ host: fqdn.slice(0, dot), domain: { name: fqdn.slice(dot + 1) } });
    return out;
  }
}
