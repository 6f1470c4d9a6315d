import type { Command } from 'commander';
import { CliError, UsageError, type Context } from '../context';
import { ago } from '../ui/format';

/**
 * Service brokers (Open Service Broker API v2.17), for platform admins: register one by URL (its
 * catalog's offerings join the marketplace), list, update, remove. The broker's password never goes
 * on the command line: `--password-env VAR` names an environment variable holding it, otherwise it
 * is asked for on a terminal or read as the first line of stdin.
 */
export function registerServiceBrokers(program: Command, ctx: Context): void {
  program
    .command('create-service-broker <name> <username> <url>')
    .description('register a service broker (platform admins): its catalog is fetched, and its offerings join the marketplace')
    .option('--password-env <var>', 'the environment variable holding the broker\'s password (default: asked for, or read from stdin)')
    .action(async (name: string, username: string, url: string, o: { passwordEnv?: string }) => {
      const password = await readPassword(ctx, o.passwordEnv, `password of broker ${name}: `);
      const broker = await (await ctx.api()).createServiceBroker({ name, url, username, password });
      ctx.print(`registered service broker ${broker.name} at ${broker.url}: offerings ${broker.offerings.join(', ') || 'none'}`);
      ctx.note('paas marketplace lists them; paas create-service OFFERING PLAN NAME provisions one');
    });

  program
    .command('service-brokers')
    .description('list the registered service brokers (platform admins)')
    .option('--json', 'the brokers as the API answers them')
    .action(async (o: { json?: boolean }) => {
      const brokers = await (await ctx.api()).serviceBrokers();
      if (o.json) return ctx.json(brokers);
      if (brokers.length === 0) return ctx.print('no service brokers: paas create-service-broker NAME USERNAME URL registers one');
      ctx.table(
        [{ header: 'name', shrink: 0 }, { header: 'url', shrink: 1 }, { header: 'username' }, { header: 'offerings', shrink: 2 }, { header: 'updated' }],
        brokers.map((b) => [b.name, b.url, b.username, b.offerings.join(', ') || '-', ago(b.updated_at)]),
      );
    });

  program
    .command('update-service-broker <name>')
    .description('change a broker\'s URL, login or name and fetch its catalog again (with no option: only fetch it again)')
    .option('--url <url>', 'its new base URL')
    .option('--username <username>', 'its new basic-auth username')
    .option('--password-env <var>', 'the environment variable holding its new password')
    .option('--password-stdin', 'read its new password from stdin (or ask on a terminal)')
    .option('--new-name <name>', 'rename it')
    .action(async (name: string, o: { url?: string; username?: string; passwordEnv?: string; passwordStdin?: boolean; newName?: string }) => {
      if (o.passwordEnv !== undefined && o.passwordStdin) throw new UsageError('give --password-env or --password-stdin, not both');
      const password = o.passwordEnv !== undefined || o.passwordStdin ? await readPassword(ctx, o.passwordEnv, `new password of broker ${name}: `) : undefined;
      const change = {
        ...(o.url !== undefined ? { url: o.url } : {}),
        ...(o.username !== undefined ? { username: o.username } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(o.newName !== undefined ? { name: o.newName } : {}),
      };
      const broker = await (await ctx.api()).updateServiceBroker(name, change);
      ctx.print(`updated service broker ${broker.name} at ${broker.url}: offerings ${broker.offerings.join(', ') || 'none'}`);
    });

  program
    .command('delete-service-broker <name>')
    .description('remove a service broker (asks first); refused while instances of its offerings exist')
    .option('-f, --force', 'do not ask (required when not on a terminal)')
    .action(async (name: string, o: { force?: boolean }) => {
      if (!o.force) {
        const yes = await ctx.confirm(`Remove service broker ${name}? Its offerings leave the marketplace.`);
        if (yes === undefined) throw new CliError(`not removing broker ${name}: there is no terminal to ask for confirmation; repeat with -f`);
        if (!yes) throw new CliError(`service broker ${name} was not removed`);
      }
      await (await ctx.api()).deleteServiceBroker(name);
      ctx.print(`removed service broker ${name}`);
    });
}

/** The password from the env variable `envVar`, else asked on a terminal, else stdin's first line; a CliError when there is none. */
async function readPassword(ctx: Context, envVar: string | undefined, question: string): Promise<string> {
  if (envVar !== undefined) {
    const value = process.env[envVar];
    if (!value) throw new CliError(`the environment variable ${envVar} (--password-env) is not set or empty: export it with the broker's password`);
    return value;
  }
  const value = ctx.io.stdin.isTTY ? await ctx.askSecret(question) : await ctx.readLine();
  if (!value) throw new CliError('no password: give --password-env VAR, or pipe the password on stdin');
  return value;
}
