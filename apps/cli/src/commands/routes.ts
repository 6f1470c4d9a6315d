import type { Command } from 'commander';
import type { ApiClient } from '@paas/api-client';
import type { DomainView, RouteView } from '@paas/contracts';
import { CliError, Context, UsageError } from '../context';
import { getApp } from './apps';

/** "/api" from "api", "/api/" or "/api"; "" for none. Pure. */
export function normalizePath(path: string | undefined): string {
  if (!path || path === '/') return '';
  return ('/' + path.replace(/^\/+/, '')).replace(/\/+$/, '');
}

async function domainNamed(api: ApiClient, name: string): Promise<DomainView> {
  const [domain] = await api.domains({ names: [name.toLowerCase()] });
  if (!domain) throw new CliError(`no domain ${name}: paas domains lists them (a platform admin adds one with paas create-domain)`);
  return domain;
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

  program
    .command('domains')
    .description('list the shared domains and the private domains of your orgs')
    .option('--json', 'the domains as the API answers them, as a JSON array')
    .action(async (o: { json?: boolean }) => {
      const api = await ctx.api();
      const domains = await api.domains();
      if (o.json) return ctx.json(domains);
      const orgs = domains.some((d) => d.org_id) ? new Map((await api.orgs()).map((org) => [org.id, org.name])) : new Map<string, string>();
      ctx.table(
        [{ header: 'name', shrink: 1 }, { header: 'type', shrink: 0 }, { header: 'org' }],
        domains.map((d) => [d.name, `${d.shared ? 'shared' : 'private'}${d.default ? ' (default)' : ''}`, d.org_id ? (orgs.get(d.org_id) ?? d.org_id) : '-']),
      );
    });

  program
    .command('create-domain <domain>')
    .description('add a domain (platform admin): shared, or private to an org with --org')
    .option('-o, --org <org>', 'the org owning this private domain')
    .option('--json', 'the created domain as JSON')
    .action(async (name: string, o: { org?: string; json?: boolean }) => {
      const api = await ctx.api();
      let orgId: string | undefined;
      if (o.org) {
        const [org] = await api.orgs({ names: [o.org] });
        if (!org) throw new CliError(`no org ${o.org}: paas orgs lists them`);
        orgId = org.id;
      }
      const domain = await api.createDomain({ name, ...(orgId ? { org_id: orgId } : {}) });
      if (o.json) return ctx.json(domain);
      ctx.print(`created ${domain.shared ? 'shared' : `private (org ${o.org})`} domain ${domain.name}: paas map-route APP ${domain.name} --hostname HOST`);
    });
}
