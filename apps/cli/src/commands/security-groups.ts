import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { securityGroupRulesSchema, type SecurityGroupLifecycle, type SecurityGroupRule } from '@paas/contracts';
import type { ApiClient } from '@paas/api-client';
import { CliError, UsageError, type Context } from '../context';
import { ago } from '../ui/format';

/**
 * Reads a rules file: a JSON array of rules, or `{"rules": [...]}` (as `paas security-group NAME
 * --json` prints a group). Every problem names the file, the rule and the field.
 */
export async function readRulesFile(path: string): Promise<SecurityGroupRule[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read the rules file ${path}: ${error.code ?? error.message}`);
  });
  return parseRules(text, path);
}

export function parseRules(text: string, where: string): SecurityGroupRule[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${where} is not JSON (${(error as Error).message}): write a list like [{"protocol":"tcp","destination":"10.0.0.5","ports":"5432"}]`);
  }
  const rules = value && typeof value === 'object' && !Array.isArray(value) && 'rules' in value ? (value as { rules: unknown }).rules : value;
  const parsed = securityGroupRulesSchema.safeParse(rules);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? `rules[${String(i.path[0])}]${i.path.slice(1).map((p) => `.${String(p)}`).join('')}` : 'rules'}: ${i.message}`);
    throw new CliError(`${where}: ${problems.join('; ')}`);
  }
  return parsed.data;
}

function lifecycleOf(value: string | undefined): SecurityGroupLifecycle {
  if (value === undefined || value === 'running' || value === 'staging') return value ?? 'running';
  throw new UsageError(`--lifecycle must be running or staging, not "${value}"`);
}

/** The space named `name` in --org or the targeted org. */
async function spaceNamed(ctx: Context, api: ApiClient, name: string, orgName: string | undefined): Promise<{ id: string; name: string; org_name: string }> {
  let orgId: string | undefined;
  if (orgName) {
    const [org] = await api.orgs({ names: [orgName] });
    if (!org) throw new CliError(`no org ${orgName}: paas orgs lists them`);
    orgId = org.id;
  } else {
    orgId = (await ctx.target())?.org?.id;
  }
  const spaces = await api.spaces({ names: [name], ...(orgId ? { orgIds: [orgId] } : {}) });
  if (spaces.length === 0) throw new CliError(`no space ${name}${orgName ? ` in org ${orgName}` : ''}: paas spaces -a lists them`);
  if (spaces.length > 1) throw new CliError(`${spaces.length} orgs have a space ${name}: name its org with -o ORG`);
  return spaces[0]!;
}

export function registerSecurityGroups(program: Command, ctx: Context): void {
  program
    .command('security-groups')
    .description('the application security groups (egress rules of containers) you can see')
    .option('--json', 'the groups as the API answers them, as a JSON array')
    .action(async (o: { json?: boolean }) => {
      const groups = await (await ctx.api()).securityGroups();
      if (o.json) return ctx.json(groups);
      if (groups.length === 0) return ctx.print('no security groups: containers reach nothing but the router');
      ctx.table(
        [{ header: 'name', shrink: 0 }, { header: 'rules', align: 'right' }, { header: 'running' }, { header: 'staging' }, { header: 'updated' }],
        groups.map((g) => [
          g.name,
          String(g.rules.length),
          g.globally_enabled.running ? 'all spaces' : `${g.running_space_ids.length} space(s)`,
          g.globally_enabled.staging ? 'all spaces' : `${g.staging_space_ids.length} space(s)`,
          ago(g.updated_at),
        ]),
      );
    });

  program
    .command('security-group <name>')
    .description("one security group: its rules, and where it applies")
    .option('--json', 'the group as the API answers it (its rules are a valid --rules file)')
    .action(async (name: string, o: { json?: boolean }) => {
      const api = await ctx.api();
      const group = await api.securityGroup(name);
      if (o.json) return ctx.json(group);
      const spaces = new Map((await api.spaces()).map((s) => [s.id, `${s.org_name}/${s.name}`]));
      const where = (global: boolean, ids: string[]) =>
        [global ? 'every space (platform default)' : '', ...ids.map((id) => spaces.get(id) ?? id)].filter(Boolean).join(', ') || '-';
      ctx.fields([
        ['name', group.name],
        ['running', where(group.globally_enabled.running, group.running_space_ids)],
        ['staging', where(group.globally_enabled.staging, group.staging_space_ids)],
      ]);
      ctx.print();
      if (group.rules.length === 0) return ctx.print('no rules: it allows nothing');
      ctx.table(
        [{ header: 'protocol' }, { header: 'destination' }, { header: 'ports' }, { header: 'description', shrink: 3 }],
        group.rules.map((r) => [r.protocol, r.destination, r.ports ?? (r.type !== undefined ? `type ${r.type}` : 'all'), r.description ?? '']),
      );
    });

  program
    .command('create-security-group <name>')
    .description('create a security group from a JSON rules file (platform admin)')
    .requiredOption('--rules <file>', 'JSON list of rules: [{"protocol":"tcp","destination":"10.0.0.5","ports":"5432"}]')
    .option('--json', 'the created group as JSON')
    .action(async (name: string, o: { rules: string; json?: boolean }) => {
      const rules = await readRulesFile(o.rules);
      const group = await (await ctx.api()).createSecurityGroup({ name, rules });
      if (o.json) return ctx.json(group);
      ctx.print(`created security group ${group.name} with ${rules.length} rule(s): bind it with paas bind-security-group ${group.name} --space SPACE`);
    });

  program
    .command('update-security-group <name>')
    .description("replace a security group's rules (platform admin); running apps get them when they next start")
    .requiredOption('--rules <file>', 'JSON list of rules')
    .action(async (name: string, o: { rules: string }) => {
      const rules = await readRulesFile(o.rules);
      await (await ctx.api()).updateSecurityGroup(name, { rules });
      ctx.print(`updated security group ${name}: restart the apps of its spaces to apply it to running instances`);
    });

  program
    .command('bind-security-group <name>')
    .description("apply a security group to a space's running (default) or staging containers (platform admin)")
    .requiredOption('-s, --space <space>', 'the space')
    .option('-o, --org <org>', 'the org of the space (default: the targeted org)')
    .option('--lifecycle <lifecycle>', 'running (instances and tasks) or staging (builds)', 'running')
    .action(async (name: string, o: { space: string; org?: string; lifecycle?: string }) => {
      const lifecycle = lifecycleOf(o.lifecycle);
      const api = await ctx.api();
      const space = await spaceNamed(ctx, api, o.space, o.org);
      await api.bindSecurityGroup(name, [space.id], lifecycle);
      ctx.print(
        `bound security group ${name} to space ${space.org_name}/${space.name} for ${lifecycle}: ` +
          (lifecycle === 'running' ? 'restart its apps to apply it to running instances' : 'its next builds use it'),
      );
    });

  program
    .command('unbind-security-group <name>')
    .description('remove a security group from a space (platform admin)')
    .requiredOption('-s, --space <space>', 'the space')
    .option('-o, --org <org>', 'the org of the space (default: the targeted org)')
    .option('--lifecycle <lifecycle>', 'running or staging', 'running')
    .action(async (name: string, o: { space: string; org?: string; lifecycle?: string }) => {
      const lifecycle = lifecycleOf(o.lifecycle);
      const api = await ctx.api();
      const space = await spaceNamed(ctx, api, o.space, o.org);
      await api.unbindSecurityGroup(name, space.id, lifecycle);
      ctx.print(`unbound security group ${name} from space ${space.org_name}/${space.name} for ${lifecycle}: restart its apps to apply it`);
    });

  for (const lifecycle of ['running', 'staging'] as const) {
    program
      .command(`bind-${lifecycle}-security-group <name>`)
      .description(`make a security group a platform default for ${lifecycle} containers of every space (platform admin)`)
      .action(async (name: string) => {
        await (await ctx.api()).updateSecurityGroup(name, { globally_enabled: { [lifecycle]: true } });
        ctx.print(`security group ${name} now applies to the ${lifecycle} containers of every space`);
      });
    program
      .command(`unbind-${lifecycle}-security-group <name>`)
      .description(`stop applying a security group to every space's ${lifecycle} containers (platform admin)`)
      .action(async (name: string) => {
        await (await ctx.api()).updateSecurityGroup(name, { globally_enabled: { [lifecycle]: false } });
        ctx.print(`security group ${name} is no longer a ${lifecycle} default (spaces bound to it keep it)`);
      });
  }

  program
    .command('delete-security-group <name>')
    .description('delete a security group and its bindings (platform admin)')
    .action(async (name: string) => {
      await (await ctx.api()).deleteSecurityGroup(name);
      ctx.print(`deleted security group ${name}: restart the apps of its spaces to apply it to running instances`);
    });
}
