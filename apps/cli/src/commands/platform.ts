import type { Command } from 'commander';
import { CliError, Context } from '../context';
import { ago, formatMb } from '../ui/format';
import { stateStyle } from './apps';

export function registerPlatform(program: Command, ctx: Context): void {
  program
    .command('cells')
    .description('the live cells: zone, state, instances and memory')
    .option('--json', 'the cells as the API answers them, as a JSON array')
    .action(async (o: { json?: boolean }) => {
      const cells = await (await ctx.api()).cells();
      if (o.json) return ctx.json(cells);
      if (cells.length === 0) return ctx.print('no live cell: apps cannot run until a cell starts (npm start runs two)');
      ctx.table(
        [
          { header: 'cell', shrink: 0 },
          { header: 'zone' },
          { header: 'state', shrink: 0 },
          { header: 'address' },
          { header: 'instances', align: 'right' },
          { header: 'memory', align: 'right' },
          { header: 'apps', shrink: 3 },
          { header: 'up' },
        ],
        cells.map((c) => [
          c.id,
          c.zone,
          { text: c.state, style: stateStyle(ctx, c.state) },
          c.address,
          `${c.instances.running}/${c.instances.total}`,
          `${formatMb(c.allocated_memory_mb)} / ${formatMb(c.capacity.memory_mb)}`,
          c.apps.map((a) => `${a.name} (${a.instances})`).join(', ') || '-',
          ago(c.started_at).replace(/ ago$/, ''),
        ]),
      );
    });

  program
    .command('orgs')
    .description('the orgs you can see')
    .option('--json', 'the orgs as the API answers them, as a JSON array')
    .action(async (o: { json?: boolean }) => {
      const orgs = await (await ctx.api()).orgs();
      if (o.json) return ctx.json(orgs);
      ctx.table([{ header: 'name' }, { header: 'created' }], orgs.map((org) => [org.name, ago(org.created_at)]));
    });

  program
    .command('create-org <name>')
    .description('create an org (platform admin)')
    .option('--json', 'the created org as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const org = await (await ctx.api()).createOrg(name);
      if (o.json) return ctx.json(org);
      ctx.print(`created org ${org.name}: add a space with paas create-space NAME -o ${org.name}`);
    });

  program
    .command('spaces')
    .description('the spaces you hold a role in (of one org with -o, or of the targeted org)')
    .option('-o, --org <org>', 'only the spaces of this org')
    .option('-a, --all', 'the spaces of every org, whatever the target')
    .option('--json', 'the spaces as the API answers them, as a JSON array')
    .action(async (o: { org?: string; all?: boolean; json?: boolean }) => {
      const api = await ctx.api();
      let orgId: string | undefined;
      if (o.org) {
        const [org] = await api.orgs({ names: [o.org] });
        if (!org) throw new CliError(`no org ${o.org}: paas orgs lists them`);
        orgId = org.id;
      } else if (!o.all) {
        orgId = (await ctx.target())?.org?.id;
      }
      const spaces = await api.spaces(orgId ? { orgIds: [orgId] } : {});
      if (o.json) return ctx.json(spaces);
      if (spaces.length === 0) return ctx.print('no spaces');
      ctx.table([{ header: 'org' }, { header: 'space' }, { header: 'created' }], spaces.map((s) => [s.org_name, s.name, ago(s.created_at)]));
    });

  program
    .command('create-space <name>')
    .description('create a space in an org (platform admin): -o ORG, or the targeted org')
    .option('-o, --org <org>', 'the org (default: the targeted one)')
    .option('--json', 'the created space as JSON')
    .action(async (name: string, o: { org?: string; json?: boolean }) => {
      const api = await ctx.api();
      let org = o.org ? undefined : (await ctx.target())?.org;
      if (o.org) {
        const [found] = await api.orgs({ names: [o.org] });
        if (!found) throw new CliError(`no org ${o.org}: paas orgs lists them`);
        org = { id: found.id, name: found.name };
      }
      if (!org) throw new CliError('which org? give it with -o ORG, or target one with paas target -o ORG');
      const space = await api.createSpace(name, org.id);
      if (o.json) return ctx.json(space);
      ctx.print(`created space ${space.name} in ${space.org_name}: paas target -o ${space.org_name} -s ${space.name}`);
    });
}
