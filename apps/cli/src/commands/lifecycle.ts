import type { Command } from 'commander';
import { countInstances, describeCounts, type ChangeResult, type InstanceView } from '@paas/contracts';
import { CliError, Context, UsageError } from '../context';
import { ago, formatCpuLimit, formatMb, localTime, parseCpuFlag, parseSizeFlag } from '../ui/format';
import { getApp, stateStyle } from './apps';

/** K V, or K=V pairs, to variables. Pure. */
export function parseEnvPairs(args: string[]): Record<string, string> {
  if (args.length === 2 && !args[0].includes('=')) return { [args[0]]: args[1] };
  const vars: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`"${arg}" is not NAME=VALUE: give NAME VALUE, or NAME=VALUE pairs`);
    vars[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  if (Object.keys(vars).length === 0) throw new UsageError('give NAME VALUE, or NAME=VALUE pairs');
  return vars;
}

/** "v3", "3" -> 3. Pure. */
export function parseVersion(text: string): number {
  const match = /^v?(\d+)$/i.exec(text.trim());
  if (!match || Number(match[1]) < 1) throw new UsageError(`a release version is like v3 or 3 (got "${text}"): paas releases NAME lists them`);
  return Number(match[1]);
}

/** Still has a container: running, starting, or stopping (a stop or scale-down waits for these too). */
const live = (i: InstanceView) => i.state === 'RUNNING' || i.state === 'STARTING' || i.state === 'STOPPING';

/** "2 still stopping", "1 still running, 2 still stopping": what a stop waits for. */
function stillThere(all: InstanceView[]): string {
  const stopping = all.filter((i) => i.state === 'STOPPING').length;
  const up = all.filter(live).length - stopping;
  return [up ? `${up} still running` : '', stopping ? `${stopping} still stopping` : ''].filter(Boolean).join(', ') || 'none left';
}

/**
 * Reports a change that may have rolled out a release (env, scale, bind-service...); waits for its
 * deployment (when it made one) unless `wait` is false (--no-wait). A CliError when it fails.
 */
export async function rollOut(ctx: Context, appName: string, label: string, result: ChangeResult, wait: boolean): Promise<void> {
  if (result.deployment_id && wait) {
    await ctx.waitForDeployment(appName, result.deployment_id, label);
    ctx.print(`${label}: v${result.release_version} is deployed`);
  } else if (result.deployment_id) {
    ctx.print(`${label}: deploying v${result.release_version} (deployment ${result.deployment_id}); follow it with paas deployments ${appName}`);
  } else {
    ctx.print(`${label}: done${result.release_version ? ` (v${result.release_version})` : ''}`);
  }
}

export function registerLifecycle(program: Command, ctx: Context): void {

  program
    .command('scale <name>')
    .description('change instances, memory, disk or cpu of a process type; without changes, show them')
    .option('-p, --process <type>', 'the process type', 'web')
    .option('-i, --instances <n>', 'number of instances')
    .option('-m, --memory <size>', 'memory limit per instance, e.g. 512M or 1G')
    .option('-k, --disk <size>', 'disk limit per instance, e.g. 1G')
    .option('--cpu <cores>', 'CPU quota per instance in cores (0.5) or millicores (500m); none removes it')
    .option('--no-wait', 'do not wait for the instances or the deployment')
    .option('--json', 'the processes (without changes), or the API answer, as JSON')
    .action(async (name: string, o: { process: string; instances?: string; memory?: string; disk?: string; cpu?: string; wait: boolean; json?: boolean }) => {
      const change: { instances?: number; memory_mb?: number; disk_mb?: number; cpu_millicores?: number | null } = {};
      if (o.instances !== undefined) {
        if (!/^\d+$/.test(o.instances)) throw new UsageError(`-i must be a whole number of instances, like 2 (got "${o.instances}")`);
        change.instances = Number(o.instances);
      }
      for (const [flag, value, field] of [['-m', o.memory, 'memory_mb'], ['-k', o.disk, 'disk_mb']] as const) {
        if (value === undefined) continue;
        const mb = parseSizeFlag(flag, value);
        if (typeof mb === 'string') throw new UsageError(mb);
        change[field] = mb;
      }
      if (o.cpu !== undefined) {
        const millicores = parseCpuFlag(o.cpu);
        if (typeof millicores === 'string') throw new UsageError(millicores);
        change.cpu_millicores = millicores;
      }
      const api = await ctx.api();
      const app = await getApp(ctx, name);
      if (Object.keys(change).length === 0) {
        const processes = await api.processes(app.id);
        if (o.json) return ctx.json(processes);
        return ctx.table(
          [
            { header: 'process' },
            { header: 'instances', align: 'right' },
            { header: 'memory', align: 'right' },
            { header: 'disk', align: 'right' },
            { header: 'cpu', align: 'right' },
            { header: 'command', shrink: 3 },
          ],
          processes.map((p) => [p.type, String(p.instances), formatMb(p.memory_mb), formatMb(p.disk_mb), formatCpuLimit(p.cpu_millicores), p.command ?? '(from the release)']),
        );
      }
      const result = await api.scale(app.id, o.process, change);
      if (o.json) return ctx.json(result);
      const label = `scaling ${app.name} ${o.process}`;
      const said = [
        change.instances !== undefined ? `${change.instances} instance(s)` : '',
        change.memory_mb !== undefined ? `${formatMb(change.memory_mb)} memory` : '',
        change.disk_mb !== undefined ? `${formatMb(change.disk_mb)} disk` : '',
        change.cpu_millicores !== undefined ? (change.cpu_millicores === null ? 'no cpu quota' : `${formatCpuLimit(change.cpu_millicores)} cpu`) : '',
      ].filter(Boolean);
      if (result.deployment_id) return rollOut(ctx, app.name, `${label} to ${said.join(', ')}`, result, o.wait);
      if (change.instances !== undefined && o.wait && app.state === 'STARTED' && app.current_release_id) {
        const n = change.instances;
        await ctx.waitForInstances(
          app.id,
          label,
          (all) => {
            const mine = all.filter((i) => i.process_type === o.process);
            return mine.filter((i) => i.state === 'RUNNING').length === n && mine.filter(live).length === n;
          },
          (all) => describeCounts(countInstances(all, new Map([[o.process, n]])).find((c) => c.process_type === o.process)!),
        );
      }
      ctx.print(`scaled ${app.name} ${o.process} to ${said.join(', ')}`);
    });

  program
    .command('start <name>')
    .description('start the instances of the current release (waits until they run)')
    .option('--no-wait', 'do not wait for the instances')
    .action(async (name: string, o: { wait: boolean }) => {
      const api = await ctx.api();
      const app = await getApp(ctx, name);
      const result = await api.start(app.id);
      if (result.release_version === null) return ctx.print(`${app.name} has no release yet: push it with paas push ${app.name}`);
      if (result.deployment_id) return rollOut(ctx, app.name, `starting ${app.name}`, result, o.wait);
      if (o.wait) {
        const desired = (await api.processes(app.id)).reduce((sum, p) => sum + p.instances, 0);
        await ctx.waitForInstances(
          app.id,
          `starting ${app.name}`,
          (all) => all.filter((i) => i.state === 'RUNNING').length >= desired,
          (all) => `${all.filter((i) => i.state === 'RUNNING').length}/${desired} running`,
        );
      }
      ctx.print(`started ${app.name} (v${result.release_version})`);
    });

  program
    .command('stop <name>')
    .description('stop every instance of an app')
    .option('--no-wait', 'do not wait for the instances to stop')
    .action(async (name: string, o: { wait: boolean }) => {
      const api = await ctx.api();
      const app = await getApp(ctx, name);
      await api.stop(app.id);
      if (o.wait) await ctx.waitForInstances(app.id, `stopping ${app.name}`, (all) => all.filter(live).length === 0, (all) => stillThere(all));
      ctx.print(`stopped ${app.name}`);
    });

  program
    .command('restart <name>')
    .description('restart an app: a rolling deployment of its current release, no request dropped')
    .option('--no-wait', 'do not wait for the deployment')
    .action(async (name: string, o: { wait: boolean }) => {
      const app = await getApp(ctx, name);
      const result = await (await ctx.api()).restart(app.id);
      if (result.release_version === null) return ctx.print(`${app.name} has no release yet: push it with paas push ${app.name}`);
      await rollOut(ctx, app.name, `restarting ${app.name}`, result, o.wait);
    });

  program
    .command('env <name>')
    .description("show an app's environment variables")
    .option('--json', 'the API answer ({"var": {...}}) as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const app = await getApp(ctx, name);
      const env = await (await ctx.api()).env(app.id);
      if (o.json) return ctx.json(env);
      const names = Object.keys(env.var).sort();
      if (names.length === 0) return ctx.print(`${app.name} has no environment variables: paas set-env ${app.name} NAME VALUE`);
      ctx.table([{ header: 'name', shrink: 0 }, { header: 'value', shrink: 2 }], names.map((n) => [n, env.var[n]]));
    });

  program
    .command('set-env <name> <vars...>')
    .description('set environment variables (NAME VALUE, or NAME=VALUE ...); rolls out a new release')
    .option('--no-wait', 'do not wait for the deployment')
    .action(async (name: string, vars: string[], o: { wait: boolean }) => {
      const parsed = parseEnvPairs(vars);
      const app = await getApp(ctx, name);
      const result = await (await ctx.api()).updateEnv(app.id, parsed);
      await rollOut(ctx, app.name, `set ${Object.keys(parsed).join(', ')} on ${app.name}`, result, o.wait);
    });

  program
    .command('unset-env <name> <names...>')
    .description('remove environment variables; rolls out a new release')
    .option('--no-wait', 'do not wait for the deployment')
    .action(async (name: string, names: string[], o: { wait: boolean }) => {
      const app = await getApp(ctx, name);
      const result = await (await ctx.api()).updateEnv(app.id, Object.fromEntries(names.map((n) => [n, null])));
      await rollOut(ctx, app.name, `unset ${names.join(', ')} on ${app.name}`, result, o.wait);
    });

  program
    .command('releases <name>')
    .description("list an app's releases, newest first (* marks the current one)")
    .option('--json', 'the releases as the API answers them, as a JSON array')
    .action(async (name: string, o: { json?: boolean }) => {
      const app = await getApp(ctx, name);
      const releases = await (await ctx.api()).releases(app.id);
      if (o.json) return ctx.json(releases);
      if (releases.length === 0) return ctx.print(`${app.name} has no release yet: paas push ${app.name}`);
      ctx.table(
        [{ header: 'version', shrink: 0 }, { header: 'description', shrink: 2 }, { header: 'buildpack' }, { header: 'created' }, { header: 'note' }],
        releases.map((r) => [
          r.current ? { text: `* v${r.version}`, style: ctx.color.green } : `  v${r.version}`,
          r.description ?? '',
          r.buildpack ?? '-',
          ago(r.created_at),
          r.droplet_pruned ? 'pruned: no rollback' : '',
        ]),
      );
    });

  program
    .command('rollback <name> <version>')
    .description('roll back to an earlier release (v3 or 3): a new release with its droplet and env')
    .option('--no-wait', 'do not wait for the deployment')
    .action(async (name: string, version: string, o: { wait: boolean }) => {
      const v = parseVersion(version);
      const app = await getApp(ctx, name);
      const result = await (await ctx.api()).rollback(app.id, v);
      await rollOut(ctx, app.name, `rolling ${app.name} back to v${v}`, result, o.wait);
    });

  program
    .command('deployments <name>')
    .description("list an app's deployments, newest first")
    .option('-n, --limit <n>', 'how many', '20')
    .option('--json', 'the deployments as the API answers them, as a JSON array')
    .action(async (name: string, o: { limit: string; json?: boolean }) => {
      const api = await ctx.api();
      const app = await getApp(ctx, name);
      const [deployments, releases] = await Promise.all([api.deployments(app.id, Number(o.limit) || 20), api.releases(app.id)]);
      if (o.json) return ctx.json(deployments);
      if (deployments.length === 0) return ctx.print(`${app.name} has no deployment yet`);
      const versions = new Map(releases.map((r) => [r.id, `v${r.version}`]));
      ctx.table(
        [{ header: 'id', shrink: 0 }, { header: 'state', shrink: 0 }, { header: 'release' }, { header: 'created' }, { header: 'reason', shrink: 3 }],
        deployments.map((d) => [d.id, { text: d.state, style: stateStyle(ctx, d.state) }, versions.get(d.release_id) ?? '?', ago(d.created_at), d.reason ?? '']),
      );
    });

  program
    .command('cancel-deploy <name> [id]')
    .description('cancel the running deployment of an app (the previous release keeps serving)')
    .action(async (name: string, id: string | undefined) => {
      const api = await ctx.api();
      const app = await getApp(ctx, name);
      let deploymentId = id;
      if (!deploymentId) {
        const running = (await api.deployments(app.id, 20)).find((d) => d.state === 'DEPLOYING');
        if (!running) throw new CliError(`no deployment of ${app.name} is running: paas deployments ${app.name} lists them`);
        deploymentId = running.id;
      }
      const spinner = ctx.spinner(`canceling deployment ${deploymentId}`);
      let canceled;
      try {
        canceled = await api.cancelDeployment(app.id, deploymentId);
      } finally {
        spinner.stop();
      }
      ctx.print(
        canceled.state === 'CANCELED'
          ? `canceled deployment ${canceled.id} of ${app.name}: the previous release keeps serving`
          : `deployment ${canceled.id} of ${app.name} is stopping (${canceled.state}): paas deployments ${app.name} shows when it ends`,
      );
    });

  program
    .command('events [name]')
    .description('the audit log, newest first: of an app, or of everything you can see')
    .option('-t, --type <types>', 'only these event types, comma-separated (e.g. app-pushed,route-mapped)')
    .option('-n, --limit <n>', 'how many', '50')
    .option('--json', 'the events as the API answers them, as a JSON array')
    .action(async (name: string | undefined, o: { type?: string; limit: string; json?: boolean }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new UsageError(`-n must be a number from 1 to 200 (got "${o.limit}")`);
      const api = await ctx.api();
      const app = name ? await getApp(ctx, name) : undefined;
      const events = await api.events({ ...(app ? { targetIds: [app.id] } : {}), ...(o.type ? { types: o.type.split(',') } : {}) }, limit);
      if (o.json) return ctx.json(events);
      if (events.length === 0) return ctx.print('no events');
      ctx.table(
        [{ header: 'time', shrink: 0 }, { header: 'type', shrink: 0 }, { header: 'actor' }, { header: 'target' }, { header: 'details', shrink: 4 }],
        events.map((e) => [
          localTime(e.created_at),
          e.type,
          e.actor.name,
          `${e.target.type} ${e.target.name}`,
          e.data && typeof e.data === 'object' && Object.keys(e.data).length > 0 ? JSON.stringify(e.data) : '',
        ]),
      );
    });
}
