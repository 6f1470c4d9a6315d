import type { Command } from 'commander';
import type { ApiClient } from '@paas/api-client';
import type { DomainView, RouteView, UpdateRouteRequest } from '@paas/contracts';
import { CliError, Context, UsageError } from '../context';
import { getApp } from './apps';
import { domainNamed } from './domains';

/** "/api" from "api", "/api/" or "/api"; "" for none. Pure. */
export function normalizePath(path: string | undefined): string {
  if (!path || path === '/') return '';
  return ('/' + path.replace(/^\/+/, '')).replace(/\/+$/, '');
}

async function findRoute(api: ApiClient, domain: DomainView, host: string, path: string): Promise<RouteView | undefined> {
  return (await api.routes({ hosts: [host], domainIds: [domain.id] })).find((r) => r.host === host && r.path === path);
}

const weightText = (w: number | null) => (w === null ? '' : ` (weight ${w})`);

export function registerRoutes(program: Command, ctx: Context): void {
  program
    .command('routes [name]')
    .description('list routes: of an app, or of the targeted space (else all you can see)')
    .option('--json', 'the routes as the API answers them, as a JSON array')
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      const api = await ctx.api();
      const app = name ? await getApp(ctx, name) : undefined;
      const target = app ? undefined : await ctx.target();
      const routes = await api.routes(app ? { appIds: [app.id] } : target?.space ? { spaceIds: [target.space.id] } : {});
      if (o.json) return ctx.json(routes);
      if (routes.length === 0) return ctx.print(app ? `${app.name} has no route: paas map-route ${app.name} DOMAIN --hostname HOST` : 'no routes');
      ctx.table(
        [{ header: 'route', shrink: 1 }, { header: 'apps', shrink: 2 }],
        routes.map((r) => [r.url, r.destinations.map((d) => `${d.app.name}${d.process_type === 'web' ? '' : `:${d.process_type}`}${weightText(d.weight)}`).join(', ') || '(none)']),
      );
    });

  program
    .command('map-route <name> <domain>')
    .description('route HOST.DOMAIN[/PATH] to an app (the route is created in the app\'s space when missing)')
    .requiredOption('-n, --hostname <host>', 'the host (a DNS label; "" for the apex of a private domain)')
    .option('--path <path>', 'a path prefix, like /api')
    .option('-w, --weight <weight>', 'relative share of the traffic, 1-100 (e.g. 10 for a canary)')
    .option('--json', 'the route\'s destinations after the change, as JSON')
    .action(async (name: string, domainName: string, o: { hostname: string; path?: string; weight?: string; json?: boolean }) => {
      let weight: number | undefined;
      if (o.weight !== undefined) {
        weight = Number(o.weight);
        if (!Number.isInteger(weight) || weight < 1 || weight > 100) throw new UsageError(`--weight must be a whole number from 1 to 100 (got "${o.weight}")`);
      }
      const api = await ctx.api();
      const app = await getApp(ctx, name);
      const domain = await domainNamed(api, domainName);
      const path = normalizePath(o.path);
      const host = o.hostname.toLowerCase();
      const route = (await findRoute(api, domain, host, path)) ?? (await api.createRoute({ host, domain_id: domain.id, path, space_id: app.space_id }));
      const result = await api.addDestinations(route.id, [{ app: { id: app.id }, ...(weight !== undefined ? { weight } : {}) }]);
      if (o.json) return ctx.json(result);
      ctx.print(`mapped ${route.url} to ${app.name}${weightText(weight ?? null)}`);
    });

  program
    .command('unmap-route <name> <domain>')
    .description('stop routing HOST.DOMAIN[/PATH] to an app (the route itself stays)')
    .requiredOption('-n, --hostname <host>', 'the host')
    .option('--path <path>', 'the path prefix')
    .action(async (name: string, domainName: string, o: { hostname: string; path?: string }) => {
      const api = await ctx.api();
      const app = await getApp(ctx, name);
      const domain = await domainNamed(api, domainName);
      const host = o.hostname.toLowerCase();
      const path = normalizePath(o.path);
      const route = await findRoute(api, domain, host, path);
      const url = `${host ? `${host}.` : ''}${domain.name}${path}`;
      if (!route) throw new CliError(`no route ${url}: paas routes ${app.name} lists the app's routes`);
      const mine = route.destinations.filter((d) => d.app.id === app.id);
      if (mine.length === 0) throw new CliError(`${url} does not route to ${app.name}: paas routes ${app.name} lists the app's routes`);
      for (const d of mine) await api.removeDestination(route.id, d.id);
      ctx.print(`unmapped ${route.url} from ${app.name}`);
    });
}

/**
 * The domain and route host of a full host name (`www.shop.example.test` → host `www` of domain
 * `shop.example.test`; a domain's own name → its apex, host ""): the longest domain that leaves
 * at most one label. Pure.
 */
export function splitHost(fullHost: string, domains: DomainView[]): { domain: DomainView; host: string } | undefined {
  const name = fullHost.toLowerCase().replace(/\.$/, '');
  let best: { domain: DomainView; host: string } | undefined;
  for (const domain of domains) {
    const host = name === domain.name ? '' : name.endsWith(`.${domain.name}`) ? name.slice(0, -domain.name.length - 1) : undefined;
    if (host === undefined || host.includes('.')) continue;
    if (!best || domain.name.length > best.domain.name.length) best = { domain, host };
  }
  return best;
}

/** The route of a full host and path, or a CliError saying how to find it. */
export async function routeOfHost(api: ApiClient, fullHost: string, path: string): Promise<RouteView> {
  const split = splitHost(fullHost, await api.domains());
  if (!split) throw new CliError(`${fullHost} is on no domain you may use: paas domains lists them`);
  const route = await findRoute(api, split.domain, split.host, path);
  if (!route) throw new CliError(`no route ${fullHost}${path}: paas routes lists them (paas map-route APP ${split.domain.name} --hostname ${split.host || '""'} creates it)`);
  return route;
}

/** "https redirect on, HSTS max-age 300" for a route. Pure. */
export function httpsSettings(route: Pick<RouteView, 'https_redirect' | 'hsts_max_age'>): string {
  return `https redirect ${route.https_redirect ? 'on' : 'off'}, ${route.hsts_max_age === null ? 'no HSTS' : `HSTS max-age ${route.hsts_max_age}`}`;
}

/** `--hsts MAX_AGE` in seconds (0 to two years), or a usage message. Pure. */
export function parseHsts(value: string): number | string {
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(seconds) || seconds > 63_072_000) return `--hsts must be a max-age in seconds from 0 to 63072000 (two years), e.g. 31536000 (got "${value}")`;
  return seconds;
}

export function registerRouteUpdate(program: Command, ctx: Context): void {
  program
    .command('update-route <host>')
    .description('HTTPS settings of the route of HOST (its full name, e.g. www.example.com): redirect HTTP to HTTPS, HSTS')
    .option('--path <path>', 'the route\'s path prefix')
    .option('--https-redirect', 'answer plain-HTTP requests with a 308 to https')
    .option('--no-https-redirect', 'serve plain HTTP as well')
    .option('--hsts <max-age>', 'send Strict-Transport-Security with this max-age (seconds) on HTTPS answers')
    .option('--no-hsts', 'send no Strict-Transport-Security')
    .option('--json', 'the route after the change, as JSON')
    .action(async (fullHost: string, o: { path?: string; httpsRedirect?: boolean; hsts?: string | false; json?: boolean }) => {
      const change: UpdateRouteRequest = {};
      if (o.httpsRedirect !== undefined) change.https_redirect = o.httpsRedirect;
      if (typeof o.hsts === 'string') {
        const seconds = parseHsts(o.hsts);
        if (typeof seconds === 'string') throw new UsageError(seconds);
        change.hsts_max_age = seconds;
      } else if (o.hsts === false) change.hsts_max_age = null;
      if (Object.keys(change).length === 0) throw new UsageError('say what to change: --https-redirect or --no-https-redirect, --hsts MAX_AGE or --no-hsts');
      const api = await ctx.api();
      const route = await routeOfHost(api, fullHost, normalizePath(o.path));
      const updated = await api.updateRoute(route.id, change);
      if (o.json) return ctx.json(updated);
      ctx.print(`updated ${updated.url}: ${httpsSettings(updated)}`);
    });
}
