import type { Command } from 'commander';
import { CliError, type Context } from '../context';
import { ago } from '../ui/format';
import { getServiceInstance } from './service-instances';

/**
 * Service keys (Cloud Foundry's names): credentials of a managed instance for use outside an app,
 * each a login of its own. They work only where the cells let a connection reach the server: from
 * the platform's own hosts (a cell's host, or a host of the platform's networks such as the
 * controller's), not from elsewhere; docs/services.md says why.
 */
export const KEY_REACH_NOTE =
  'these credentials connect only from the platform\'s hosts (a cell\'s host, or a host of the platform\'s networks such as the controller\'s): run your client there, or tunnel through one (ssh -L 5432:HOST:PORT you@platform-host)';

export function registerServiceKeys(program: Command, ctx: Context): void {
  program
    .command('create-service-key <name> <key>')
    .description('make a service key: credentials of its own for the instance (for an operator\'s psql or redis-cli), printed as JSON')
    .action(async (name: string, key: string) => {
      const instance = await getServiceInstance(ctx, name);
      const created = await (await ctx.api()).createServiceKey(instance.id, key);
      ctx.note(`created service key ${created.name} of ${instance.name}; paas service-key ${instance.name} ${created.name} shows it again`);
      ctx.note(KEY_REACH_NOTE);
      ctx.json(created.credentials ?? {});
    });

  program
    .command('service-keys <name>')
    .description('list the service keys of an instance (without their credentials)')
    .option('--json', 'the keys as the API answers them')
    .action(async (name: string, o: { json?: boolean }) => {
      const instance = await getServiceInstance(ctx, name);
      const keys = await (await ctx.api()).serviceKeys(instance.id);
      if (o.json) return ctx.json(keys);
      if (keys.length === 0) return ctx.print(`service ${instance.name} has no keys: paas create-service-key ${instance.name} KEY makes one`);
      ctx.table([{ header: 'name', shrink: 0 }, { header: 'created' }], keys.map((k) => [k.name, ago(k.created_at)]));
    });

  program
    .command('service-key <name> <key>')
    .description('print a service key\'s credentials as JSON (needs the developer role)')
    .action(async (name: string, key: string) => {
      const instance = await getServiceInstance(ctx, name);
      const found = await (await ctx.api()).serviceKey(instance.id, key);
      if (!found.credentials) throw new CliError(`the API gave no credentials for service key ${key}`);
      ctx.note(KEY_REACH_NOTE);
      ctx.json(found.credentials);
    });

  program
    .command('delete-service-key <name> <key>')
    .description('delete a service key: its login stops working at once (open sessions end)')
    .option('-f, --force', 'do not ask (required when not on a terminal)')
    .action(async (name: string, key: string, o: { force?: boolean }) => {
      const instance = await getServiceInstance(ctx, name);
      if (!o.force) {
        const yes = await ctx.confirm(`Delete service key ${key} of ${instance.name}? Whoever uses it is disconnected.`);
        if (yes === undefined) throw new CliError(`not deleting service key ${key}: there is no terminal to ask for confirmation; repeat with -f to delete it without asking`);
        if (!yes) throw new CliError(`service key ${key} was not deleted`);
      }
      await (await ctx.api()).deleteServiceKey(instance.id, key);
      ctx.print(`deleted service key ${key} of ${instance.name}: its login no longer works`);
    });
}
