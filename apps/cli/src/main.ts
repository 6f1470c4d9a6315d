#!/usr/bin/env node
/**
 * `paas`: the platform from a terminal. Exit codes: 0 success, 1 failure (the message says what
 * to do next), 2 wrong usage. Results go to stdout (tables, or the API's JSON with --json);
 * spinners, progress bars and notes to stderr.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ApiError } from '@paas/api-client';
import { ConfigError } from './cli-config';
import { CliError, Context, EXAMPLE_API } from './context';
import { registerApps } from './commands/apps';
import { registerAuth } from './commands/auth';
import { registerLifecycle } from './commands/lifecycle';
import { registerLogs } from './commands/logs';
import { registerPlatform } from './commands/platform';
import { registerSecurityGroups } from './commands/security-groups';
import { registerPush } from './commands/push';
import { registerCertificates } from './commands/certificates';
import { registerDomains } from './commands/domains';
import { registerRouteUpdate, registerRoutes } from './commands/routes';
import { registerServiceBackups } from './commands/service-backups';
import { registerServiceBindings } from './commands/service-bindings';
import { registerServices } from './commands/services';
import { registerServiceKeys } from './commands/service-keys';
import { registerServiceUpdate } from './commands/service-update';
import { registerServiceBrokers } from './commands/service-brokers';
import { registerUserProvidedServices } from './commands/user-provided-services';

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function buildProgram(ctx: Context): Command {
  const program = new Command('paas')
    .description('drive the platform: log in, push apps, scale them, route them, read their logs, give them services')
    .version(version(), '-v, --version')
    .exitOverride()
    .showHelpAfterError('(paas help COMMAND shows its options)')
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      outputError: (s, write) => write(ctx.errColor.red(s)),
    });
  registerAuth(program, ctx);
  registerApps(program, ctx);
  registerPush(program, ctx);
  registerLifecycle(program, ctx);
  registerRoutes(program, ctx);
  registerRouteUpdate(program, ctx);
  registerDomains(program, ctx);
  registerCertificates(program, ctx);
  registerLogs(program, ctx);
  registerPlatform(program, ctx);
  registerSecurityGroups(program, ctx);
  registerServices(program, ctx);
  registerServiceBindings(program, ctx);
  registerServiceUpdate(program, ctx);
  registerServiceKeys(program, ctx);
  registerUserProvidedServices(program, ctx);
  registerServiceBrokers(program, ctx);
  registerServiceBackups(program, ctx);
  return program;
}

/** The message for an error of the API, with what to do next where the API cannot know it. */
function apiErrorMessage(error: ApiError): string {
  if (error.status === 401) return `${error.message} (the token was refused: log in again with paas login --api ${process.env.PAAS_API || EXAMPLE_API} --token TOKEN)`;
  return error.message;
}

export async function run(argv: string[], ctx = new Context()): Promise<number> {
  try {
    await buildProgram(ctx).parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with code 0; a usage error was printed by commander.
      return error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 2;
    }
    const say = (message: string) => ctx.io.stderr.write(ctx.errColor.red(`error: ${message}`) + '\n');
    if (error instanceof CliError) {
      say(error.message);
      return error.exitCode;
    }
    if (error instanceof ApiError) {
      say(apiErrorMessage(error));
      return 1;
    }
    if (error instanceof ConfigError) {
      say(error.message);
      return 1;
    }
    say(`unexpected: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}

if (require.main === module) {
  void run(process.argv).then((code) => {
    process.exitCode = code;
  });
}
