import type { Command } from 'commander';
import { ApiClient, ApiError } from '@paas/api-client';
import { readSavedConfig, saveCliConfig, writeSavedConfig, type Target } from '../cli-config';
import { CliError, Context, EXAMPLE_API, UsageError } from '../context';

/** The API URL as typed, checked and without a trailing slash. */
export function normalizeApiUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--api must be the controller's URL, like ${EXAMPLE_API} (got "${value}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--api must be an http:// or https:// URL (got "${value}")`);
  return url.toString().replace(/\/+$/, '');
}

const targetText = (t: Target | undefined) => (t?.org ? `${t.org.name}${t.space ? ` / ${t.space.name}` : ' (no space: paas target -s SPACE)'}` : 'none (apps go to the default space; set one with paas target -o ORG -s SPACE)');

export function registerAuth(program: Command, ctx: Context): void {
  program
    .command('login')
    .description('log in to a platform: checks the token with the API, then saves the URL and token (mode 0600)')
    .option('--api <url>', `the controller's URL, e.g. ${EXAMPLE_API} (default: the saved one, or PAAS_API)`)
    .option('--token <token>', 'an API token (default: asked for on a terminal, else read from stdin)')
    .addHelpText('after', '\nThe admin token of a local platform is in .paas/admin-token. PAAS_API and PAAS_TOKEN override the saved login.')
    .action(async (o: { api?: string; token?: string }) => {
      const saved = await readSavedConfig();
      const given = o.api ?? ctx.env.PAAS_API ?? saved.api;
      if (!given) throw new UsageError(`give the API URL: paas login --api ${EXAMPLE_API} --token TOKEN`);
      const api = normalizeApiUrl(given);
      let token = o.token;
      if (!token) token = ctx.io.stdin.isTTY ? await ctx.askSecret(`API token for ${api}: `) : await ctx.readLine();
      if (!token) throw new UsageError(`give a token: paas login --api ${api} --token TOKEN`);
      let me;
      try {
        me = await new ApiClient(api, token).whoami();
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) throw new CliError(`the API at ${api} refused the token (${error.message}): check it, or make a new one with POST /v1/users/me/tokens`);
        throw error;
      }
      const file = await saveCliConfig({ api, token });
      ctx.print(`logged in to ${api} as ${me.name}${me.is_admin ? ' (platform admin)' : ''}`);
      ctx.note(`saved in ${file}`);
    });

  program
    .command('logout')
    .description('forget the saved token')
    .action(async () => {
      const saved = await readSavedConfig();
      delete saved.token;
      await writeSavedConfig(saved);
      ctx.print(`logged out${saved.api ? ` of ${saved.api}` : ''}`);
    });

  program
    .command('whoami')
    .description('who the token belongs to, its roles, the API and the target')
    .option('--json', 'the API answer (GET /v1/users/me) as JSON')
    .action(async (o: { json?: boolean }) => {
      const api = await ctx.api();
      const me = await api.whoami();
      if (o.json) return ctx.json(me);
      ctx.fields([
        ['user', `${me.name}${me.is_admin ? ' (platform admin)' : ''}`],
        ['api', api.apiUrl],
        ['target', targetText(await ctx.target())],
      ]);
      if (me.roles.length > 0) {
        ctx.print();
        ctx.table(
          [{ header: 'org' }, { header: 'space' }, { header: 'role' }],
          me.roles.map((r) => [r.org_name, r.space_name, r.role]),
        );
      }
    });

  program
    .command('target')
    .description('show or set the targeted org and space (where create puts apps, what apps lists)')
    .option('-o, --org <org>', 'the org')
    .option('-s, --space <space>', 'the space (in the org given, or the targeted one)')
    .option('--clear', 'forget the target')
    .option('--json', 'the target as JSON')
    .action(async (o: { org?: string; space?: string; clear?: boolean; json?: boolean }) => {
      const saved = await readSavedConfig();
      if (o.clear) {
        delete saved.target;
        await writeSavedConfig(saved);
        return ctx.print('target cleared: apps go to the default space');
      }
      if (!o.org && !o.space) {
        const target = await ctx.target();
        if (o.json) return ctx.json({ api: (await ctx.login()).api, org: target?.org ?? null, space: target?.space ?? null });
        return ctx.fields([
          ['api', (await ctx.login()).api],
          ['target', targetText(target)],
        ]);
      }
      const api = await ctx.api();
      const current = await ctx.target();
      let org = current?.org;
      if (o.org) {
        const [found] = await api.orgs({ names: [o.org] });
        if (!found) throw new CliError(`no org ${o.org}: paas orgs lists the orgs you can see`);
        org = { id: found.id, name: found.name };
      }
      let space: Target['space'];
      if (o.space) {
        const candidates = await api.spaces({ names: [o.space], ...(org ? { orgIds: [org.id] } : {}) });
        if (candidates.length === 0) throw new CliError(`no space ${o.space}${org ? ` in org ${org.name}` : ''}: paas spaces lists the spaces you can see`);
        if (candidates.length > 1) throw new UsageError(`several orgs have a space ${o.space} (${candidates.map((s) => s.org_name).join(', ')}): give the org with -o ORG`);
        space = { id: candidates[0].id, name: candidates[0].name };
        org = { id: candidates[0].org_id, name: candidates[0].org_name };
      } else if (org) {
        // Only an org: its space, when it has exactly one the user can see.
        const spaces = await api.spaces({ orgIds: [org.id] });
        if (spaces.length === 1) space = { id: spaces[0].id, name: spaces[0].name };
      }
      // The target is kept with the login it belongs to.
      if (saved.api && saved.api !== api.apiUrl) {
        throw new CliError(`PAAS_API (${api.apiUrl}) is not the saved login's API (${saved.api}): a target is saved with a login, run paas login --api ${api.apiUrl} first`);
      }
      saved.api = api.apiUrl;
      saved.target = { ...(org ? { org } : {}), ...(space ? { space } : {}) };
      const file = await writeSavedConfig(saved);
      if (o.json) return ctx.json({ api: api.apiUrl, org: org ?? null, space: space ?? null });
      ctx.print(`target: ${targetText(saved.target)}`);
      ctx.note(`saved in ${file}`);
    });

}
