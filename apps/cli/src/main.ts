#!/usr/bin/env node
/** `paas`: the platform from a terminal. Early: login, apps, app, create, delete, push. */
import { spawnSync } from 'node:child_process';
import { Command, CommanderError } from 'commander';
import { ApiClient, ApiError } from '@paas/api-client';
import { loadCliConfig, saveCliConfig } from './cli-config';

class CliError extends Error {}

async function client(): Promise<ApiClient> {
  const config = await loadCliConfig();
  if (!config) throw new CliError('not logged in: run paas login --api http://127.0.0.1:4000 --token <token> (or set PAAS_API and PAAS_TOKEN)');
  return new ApiClient(config.api, config.token);
}

const out = (value: unknown, json: boolean, text: () => string) => console.log(json ? JSON.stringify(value, null, 2) : text());

export function buildProgram(): Command {
  const program = new Command('paas').description('drive the platform: apps, pushes, routes').exitOverride();

  program
    .command('login')
    .description('save the API URL and token')
    .requiredOption('--api <url>', 'the controller URL, e.g. http://127.0.0.1:4000')
    .requiredOption('--token <token>', 'an API token (the admin token is in .paas/admin-token)')
    .action(async (o: { api: string; token: string }) => {
      const api = new ApiClient(o.api, o.token);
      await api.listApps();
      const file = await saveCliConfig({ api: o.api, token: o.token });
      console.log(`logged in to ${o.api} (saved in ${file})`);
    });

  program
    .command('apps')
    .description('list apps')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const { resources } = await (await client()).listApps();
      out(resources, !!o.json, () =>
        resources.length === 0
          ? 'no apps yet: paas create NAME'
          : ['name\tstate\turl', ...resources.map((a) => `${a.name}\t${a.state}\t${a.url}`)].join('\n'),
      );
    });

  program
    .command('app <name>')
    .description('show an app and its instances')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { json?: boolean }) => {
      const api = await client();
      const app = await api.getApp(name);
      const { resources: instances } = await api.instances(name);
      out({ ...app, instances }, !!o.json, () =>
        [
          `${app.name}: ${app.state}`,
          `url: ${app.url}`,
          ...instances.map((i) => `  #${i.index} ${i.state} on ${i.cell_id}, up ${i.uptime_s}s${i.last_crash_reason ? ` (${i.last_crash_reason})` : ''}`),
        ].join('\n'),
      );
    });

  program
    .command('create <name>')
    .description('create an app')
    .action(async (name: string) => {
      const app = await (await client()).createApp(name);
      console.log(`created ${app.name}: push with paas push ${app.name}`);
    });

  program
    .command('delete <name>')
    .description('delete an app, its containers and its route')
    .option('-f, --force', 'do not ask (required when not on a terminal)')
    .action(async (name: string, o: { force?: boolean }) => {
      if (!o.force) throw new CliError(`this deletes ${name} and everything it runs: repeat with -f to confirm`);
      await (await client()).deleteApp(name);
      console.log(`deleted ${name}`);
    });

  program
    .command('push <name>')
    .description('push the current git repository to an app (adds or updates the "paas" remote)')
    .option('--branch <branch>', 'local branch to deploy', 'main')
    .action(async (name: string, o: { branch: string }) => {
      const config = await loadCliConfig();
      if (!config) throw new CliError('not logged in: run paas login --api http://127.0.0.1:4000 --token <token>');
      const app = await new ApiClient(config.api, config.token).getApp(name);
      const url = new URL(app.git_url);
      url.username = 'paas';
      url.password = config.token;
      const git = (args: string[]) => spawnSync('git', args, { stdio: 'inherit' }).status ?? 1;
      if (git(['rev-parse', '--git-dir']) !== 0) throw new CliError('not a git repository: run git init and commit your app first');
      if (git(['remote', 'set-url', 'paas', url.toString()]) !== 0 && git(['remote', 'add', 'paas', url.toString()]) !== 0) {
        throw new CliError('could not set the "paas" git remote');
      }
      if (git(['push', 'paas', `${o.branch}:main`]) !== 0) throw new CliError(`push to ${name} failed: see the output above`);
    });

  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    if (error instanceof ApiError || error instanceof CliError) {
      console.error(`error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

if (require.main === module) void main();
