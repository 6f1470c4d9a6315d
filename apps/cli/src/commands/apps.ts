import type { Command } from 'commander';
import { ApiError } from '@paas/api-client';
import { describeCounts, type InstanceCounts, type InstanceView, type ProcessView } from '@paas/contracts';
import { CliError, Context, UsageError } from '../context';
import { ago, formatBytes, formatCpuLimit, formatDuration, formatMb } from '../ui/format';
import type { Cell } from '../ui/table';

/** The app, or a CliError that says how to find the right name. */
export async function getApp(ctx: Context, name: string) {
  try {
    return await (await ctx.api()).getApp(name);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) throw new CliError(`no app ${name}: paas apps lists your apps (${error.message})`);
    throw error;
  }
}

/** The space id `create` uses: --space in the targeted org (or anywhere when unique), else the targeted space, else the API's default. */
async function spaceFor(ctx: Context, space: string | undefined): Promise<string | undefined> {
  const target = await ctx.target();
  if (!space) return target?.space?.id;
  const api = await ctx.api();
  const found = await api.spaces({ names: [space], ...(target?.org ? { orgIds: [target.org.id] } : {}) });
  if (found.length === 0) throw new CliError(`no space ${space}${target?.org ? ` in org ${target.org.name}` : ''}: paas spaces lists them`);
  if (found.length > 1) throw new UsageError(`several orgs have a space ${space}: target the org first with paas target -o ORG`);
  return found[0].id;
}

export function stateStyle(ctx: Context, state: string): Cell['style'] {
  if (state === 'RUNNING' || state === 'STARTED' || state === 'DEPLOYED' || state === 'live' || state === 'STAGED') return ctx.color.green;
  if (state === 'CRASHED' || state === 'FAILED' || state === 'UNPLACED') return ctx.color.red;
  if (state === 'STARTING' || state === 'STOPPING' || state === 'DEPLOYING' || state === 'STAGING' || state === 'draining') return ctx.color.yellow;
  return ctx.color.dim;
}

/** "41.2M / 256M": used (from the latest sample) over the limit; "-" for what is unknown. */
export function usedOf(usedBytes: number | undefined, limitMb: number | null | undefined): string {
  const used = usedBytes === undefined ? '-' : formatBytes(usedBytes);
  const limit = limitMb === null || limitMb === undefined ? '-' : formatMb(limitMb);
  return `${used} / ${limit}`;
}

/** The rows of an app's instance table: index, state, release, cell, uptime, CPU %, memory and disk used/limit. */
export function instanceRows(ctx: Context, instances: InstanceView[], process: ProcessView | undefined): Array<Array<string | Cell>> {
  return instances.map((i) => [
    String(i.index),
    { text: i.state, style: stateStyle(ctx, i.state) },
    i.release_version === null ? '-' : `v${i.release_version}`,
    i.cell_id || '-',
    i.state === 'RUNNING' ? formatDuration(i.uptime_s) : '-',
    i.usage ? `${i.usage.cpu_percent.toFixed(1)}%` : '-',
    usedOf(i.usage?.memory_bytes, i.memory_limit_mb ?? process?.memory_mb),
    usedOf(i.usage?.disk_bytes, i.disk_limit_mb ?? process?.disk_mb),
  ]);
}

/** The counts of a process type the API did not list (none of its instances known yet). */
function emptyCounts(type: string, desired: number): InstanceCounts {
  return { process_type: type, desired, running: 0, starting: 0, stopping: 0, crashed: 0, unplaced: 0 };
}

export const INSTANCE_COLUMNS = [
  { header: '#', align: 'right' as const, shrink: 0 },
  { header: 'state', shrink: 0 },
  { header: 'release', shrink: 0 },
  { header: 'cell', shrink: 2 },
  { header: 'uptime', align: 'right' as const },
  { header: 'cpu', align: 'right' as const },
  { header: 'memory', align: 'right' as const },
  { header: 'disk', align: 'right' as const },
];

export function registerApps(program: Command, ctx: Context): void {
  program
    .command('apps')
    .description('list apps (of the targeted space, if any)')
    .option('-a, --all', 'every app you can see, whatever the target')
    .option('--json', 'the apps as the API answers them, as a JSON array')
    .action(async (o: { all?: boolean; json?: boolean }) => {
      const api = await ctx.api();
      const target = o.all ? undefined : await ctx.target();
      const { resources } = await api.listApps(target?.space ? { spaceIds: [target.space.id] } : {});
      if (o.json) return ctx.json(resources);
      if (resources.length === 0) return ctx.print(`no apps${target?.space ? ` in ${target.org?.name}/${target.space.name}` : ''} yet: paas create NAME, then paas push NAME`);
      ctx.table(
        [{ header: 'name', shrink: 0 }, { header: 'state', shrink: 0 }, { header: 'space' }, { header: 'url', shrink: 2 }],
        resources.map((a) => [a.name, { text: a.state, style: stateStyle(ctx, a.state) }, `${a.org_name}/${a.space_name}`, a.url]),
      );
    });

  program
    .command('app <name>')
    .description('show an app: state, release, routes, processes and an instance table with usage')
    .option('--json', 'the app with its processes, instances, routes and current release, as the API answers them')
    .action(async (name: string, o: { json?: boolean }) => {
      const api = await ctx.api();
      const app = await getApp(ctx, name);
      const [processes, { resources: instances, summary }, releases, routes] = await Promise.all([
        api.processes(app.id),
        api.instances(app.id),
        api.releases(app.id),
        api.routes({ appIds: [app.id] }),
      ]);
      const release = releases.find((r) => r.current) ?? null;
      if (o.json) return ctx.json({ ...app, release, processes, instances, summary, routes });
      const port = new URL(app.url).port;
      ctx.fields([
        ['name', app.name],
        ['state', stateStyle(ctx, app.state)!(app.state)],
        ['space', `${app.org_name}/${app.space_name}`],
        ['release', release ? `v${release.version} (${release.description}, ${release.buildpack ?? 'no buildpack'}, ${ago(release.created_at)})` : 'none yet: paas push ' + app.name],
        ['routes', routes.length ? routes.map((r) => `http://${r.url}${port ? `:${port}` : ''}`).join(', ') : 'none: paas map-route ' + app.name + ' DOMAIN --hostname HOST'],
      ]);
      for (const process of processes) {
        const mine = instances.filter((i) => i.process_type === process.type);
        if (process.instances === 0 && mine.length === 0 && process.type !== 'web') continue;
        const counts = summary.find((c) => c.process_type === process.type) ?? emptyCounts(process.type, process.instances);
        ctx.print();
        ctx.print(`${ctx.color.bold(process.type)}: ${describeCounts(counts)}, ${formatMb(process.memory_mb)} memory, ${formatMb(process.disk_mb)} disk, ${process.cpu_millicores === null ? 'unlimited' : formatCpuLimit(process.cpu_millicores)} cpu each`);
        if (mine.length === 0) continue;
        ctx.table(INSTANCE_COLUMNS, instanceRows(ctx, mine, process));
        for (const i of mine) {
          if (i.unplaced_reason) ctx.print(ctx.color.red(`  #${i.index} not placed: ${i.unplaced_reason}`));
          else if (i.state === 'STOPPING') ctx.print(ctx.color.dim(`  #${i.index} stopping${i.release_version === null ? '' : ` (v${i.release_version})`}: ${i.stop_reason ?? 'asked to stop'}`));
          else if (i.last_crash_reason) ctx.print(ctx.color.yellow(`  #${i.index} crashed ${i.crash_count} time(s), last: ${i.last_crash_reason}`));
        }
      }
    });

  program
    .command('create <name>')
    .description('create an app, with the route NAME.<apps domain> (in the targeted space, or --space)')
    .option('-s, --space <space>', 'the space (default: the targeted one, else the default space)')
    .option('--no-route', 'do not map NAME.<apps domain>')
    .option('--json', 'the created app as JSON')
    .action(async (name: string, o: { space?: string; route: boolean; json?: boolean }) => {
      const api = await ctx.api();
      const spaceId = await spaceFor(ctx, o.space);
      const app = await api.createApp(name, { ...(spaceId ? { space_id: spaceId } : {}), ...(o.route ? {} : { no_route: true }) });
      if (o.json) return ctx.json(app);
      ctx.print(`created ${app.name} in ${app.org_name}/${app.space_name}: push it with paas push ${app.name}`);
    });

  program
    .command('delete <name>')
    .description('delete an app, its containers and the routes bound to it alone (asks first)')
    .option('-f, --force', 'do not ask (required when not on a terminal)')
    .action(async (name: string, o: { force?: boolean }) => {
      const api = await ctx.api();
      const app = await getApp(ctx, name);
      if (!o.force) {
        const yes = await ctx.confirm(`Delete ${app.name}, its instances and its own routes?`);
        if (yes === undefined) throw new CliError(`not deleting ${app.name}: there is no terminal to ask for confirmation; repeat with -f to delete it without asking`);
        if (!yes) throw new CliError(`${app.name} was not deleted`);
      }
      const spinner = ctx.spinner(`deleting ${app.name}`);
      try {
        await api.deleteApp(app.id);
      } finally {
        spinner.stop();
      }
      ctx.print(`deleted ${app.name}`);
    });

  program
    .command('rename <name> <new-name>')
    .description('rename an app (its git URL follows; its routes stay as they are)')
    .option('--json', 'the renamed app as JSON')
    .action(async (name: string, newName: string, o: { json?: boolean }) => {
      const api = await ctx.api();
      const app = await getApp(ctx, name);
      const renamed = await api.renameApp(app.id, newName);
      if (o.json) return ctx.json(renamed);
      const routes = await api.routes({ appIds: [app.id] });
      ctx.print(`renamed ${name} to ${renamed.name}`);
      if (routes.length > 0) {
        ctx.note(`its routes did not change: ${routes.map((r) => r.url).join(', ')}; map another with paas map-route ${renamed.name} DOMAIN --hostname HOST`);
      }
      ctx.note(`a git remote pointing at ${name} must follow: paas push ${renamed.name} updates the "paas" remote`);
    });
}
