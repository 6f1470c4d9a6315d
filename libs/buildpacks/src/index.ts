import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** The built-in buildpacks (Heroku contract: bin/detect, bin/compile, bin/release) and their driver. */
export const BUILTIN_BUILDPACKS_DIR = join(__dirname, '..', 'buildpacks');
/** Path of the staging driver inside the staging container, where the buildpacks dir is mounted. */
export const STAGING_BUILDPACKS_MOUNT = '/tmp/buildpacks';
export const STAGING_COMMAND = ['/bin/bash', `${STAGING_BUILDPACKS_MOUNT}/stage.sh`];
/** Exit code of stage.sh when no buildpack detects the app. */
export const NO_BUILDPACK_EXIT_CODE = 3;
/** Where the operator's buildpacks folder (CELL_BUILDPACKS_DIR) is mounted, read-only, in staging. */
export const STAGING_OPERATOR_BUILDPACKS_MOUNT = '/tmp/operator-buildpacks';
/** Where staging finds the Node.js of engines.node: `<mount>/<version>/bin/node`, that one version of the cell's cache, read-only. */
export const STAGING_NODE_VERSIONS_MOUNT = '/tmp/node-versions';
/** ENV_DIR of bin/compile: one file per app variable, mounted read-only in staging. */
export const STAGING_ENV_DIR = '/tmp/env';
/** Where the droplet's app runs in instance and task containers (buildpacks write paths under it). */
export const APP_DIR = '/home/vcap/app';

/**
 * The argv that starts a droplet's command, as Heroku and Cloud Foundry do: in the app's folder,
 * after sourcing .profile.d/*.sh (what buildpacks put there, e.g. the app's Node on PATH) and then
 * .profile (the app's own); then the command line itself through `bash -c`, as Procfile lines are
 * bash on both platforms. bash execs a simple command in place, and runs a compound line
 * (`./migrate && node server.js`) whole. The line travels as an argument, never spliced into the
 * launcher's own script.
 */
export function launchCommand(startCommand: string, appDir = APP_DIR): string[] {
  return [
    '/bin/bash',
    '-c',
    `cd ${appDir} || exit 1; for f in .profile.d/*.sh; do [ -f "$f" ] && . "./$f"; done; [ -f .profile ] && . ./.profile; exec /bin/bash -c "$1"`,
    'launch',
    startCommand,
  ];
}

/** Process types of a Procfile (`name: command` lines; comments and blank lines skipped). */
export function parseProcfile(text: string): Record<string, string> {
  const types: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z0-9_-]+)\s*:\s*(.+)$/.exec(line);
    if (match) types[match[1]] = match[2].trim();
  }
  return types;
}

/** `default_process_types` of a buildpack's bin/release output. */
export function parseReleaseOutput(text: string): Record<string, string> {
  const doc: unknown = parseYaml(text);
  const types = (doc as { default_process_types?: unknown } | null)?.default_process_types;
  if (!types || typeof types !== 'object') return {};
  return Object.fromEntries(Object.entries(types).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

/** The web command: the Procfile wins over the buildpack's default, as on Heroku and Cloud Foundry. */
export function webStartCommand(procfile: string | undefined, releaseOutput: string): string | undefined {
  const fromProcfile = procfile ? parseProcfile(procfile).web : undefined;
  return fromProcfile ?? parseReleaseOutput(releaseOutput).web;
}

/** Every process type of the app: the buildpack's defaults, overridden and extended by the Procfile. */
export function processTypesOf(procfile: string | undefined, releaseOutput: string): Record<string, string> {
  return { ...parseReleaseOutput(releaseOutput), ...(procfile ? parseProcfile(procfile) : {}) };
}

export * from './buildpack-catalog';
