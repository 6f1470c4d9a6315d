import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, UsageError, type Context } from '../context';
import { getServiceInstance, spaceIdFor } from './service-instances';

/**
 * User-provided service instances (Cloud Foundry's cups / uups): credentials you give, bound to
 * apps as any service. `-p` takes the credentials as a JSON object, `@FILE` (or a path to a file)
 * holding it, or `-` to read it from stdin: a file or stdin keeps secrets out of the process list.
 */
export function registerUserProvidedServices(program: Command, ctx: Context): void {
  program
    .command('create-user-provided-service <name>')
    .alias('cups')
    .description('create a user-provided service instance: credentials of a service the platform does not run, for apps bound to it')
    .requiredOption('-p, --credentials <json|@file|->', 'the credentials: a JSON object of string or number values, @FILE holding one, or - for stdin')
    .option('-t, --tags <tags>', 'VCAP_SERVICES tags, comma-separated (tag1,tag2)')
    .option('-s, --space <space>', 'the space, by name or id (default: the targeted one, else the default space)')
    .action(async (name: string, o: { credentials: string; tags?: string; space?: string }) => {
      const api = await ctx.api();
      const credentials = await readCredentials(ctx, o.credentials);
      const spaceId = o.space !== undefined ? await spaceIdFor(ctx, api, o.space) : (await ctx.target())?.space?.id;
      const created = await api.createUserProvidedServiceInstance({ name, credentials, ...(o.tags !== undefined ? { tags: parseTags(o.tags) } : {}), ...(spaceId ? { space_id: spaceId } : {}) });
      ctx.print(`created user-provided service ${created.name} in ${created.org_name}/${created.space_name} (${Object.keys(credentials).length} credentials)`);
      ctx.note(`bind it to an app with paas bind-service APP ${created.name}`);
    });

  program
    .command('update-user-provided-service <name>')
    .alias('uups')
    .description('replace the credentials and/or tags of a user-provided service instance (bound apps get them when restarted)')
    .option('-p, --credentials <json|@file|->', 'the new credentials (replacing the old ones whole): JSON, @FILE or -')
    .option('-t, --tags <tags>', 'the new tags, comma-separated')
    .action(async (name: string, o: { credentials?: string; tags?: string }) => {
      if (o.credentials === undefined && o.tags === undefined) throw new UsageError('give -p CREDENTIALS and/or -t TAGS: there is nothing else to update');
      const instance = await getServiceInstance(ctx, name);
      const change = {
        ...(o.credentials !== undefined ? { credentials: await readCredentials(ctx, o.credentials) } : {}),
        ...(o.tags !== undefined ? { tags: parseTags(o.tags) } : {}),
      };
      const updated = await (await ctx.api()).updateUserProvidedServiceInstance(instance.id, change);
      ctx.print(`updated user-provided service ${updated.name}`);
      if (updated.bound_apps.length > 0) ctx.note(`${updated.bound_apps.join(', ')} get the new credentials once restarted: paas restart ${updated.bound_apps[0]}`);
    });
}

/** The credentials `-p` names: JSON, @FILE, a path to a file, or - (stdin); a CliError saying what is wrong. */
export async function readCredentials(ctx: Context, value: string): Promise<Record<string, string | number>> {
  let text = value;
  let where = 'the credentials (-p)';
  if (value === '-') {
    text = await readAll(ctx);
    where = 'the credentials on stdin';
  } else if (value.startsWith('@') || !value.trimStart().startsWith('{')) {
    const path = value.startsWith('@') ? value.slice(1) : value;
    text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read the credentials file ${path}: ${error.code ?? error.message} (-p takes a JSON object, @FILE or -)`);
    });
    where = `the credentials file ${path}`;
  }
  return parseCredentials(text, where);
}

/** A JSON object of string or number values. Pure. */
export function parseCredentials(text: string, where: string): Record<string, string | number> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${where} is not JSON (${(error as Error).message}): write an object like {"uri":"postgres://user:pass@host:5432/db"}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new CliError(`${where} must be a JSON object, like {"uri":"postgres://user:pass@host:5432/db"}`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'number') throw new CliError(`${where}: ${k} must be a string or a number, not ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  }
  return value as Record<string, string | number>;
}

export function parseTags(value: string): string[] {
  return value.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
}

async function readAll(ctx: Context): Promise<string> {
  let text = '';
  for await (const chunk of ctx.io.stdin as AsyncIterable<Buffer | string>) text += chunk.toString();
  return text;
}
