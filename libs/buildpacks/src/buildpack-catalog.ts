import { access, constants, lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a buildpack comes from: the operator's folder (CELL_BUILDPACKS_DIR) or the platform's own. */
export type BuildpackSource = 'operator' | 'builtin';

/** One buildpack (Heroku contract: bin/detect, bin/compile, optional bin/release) on the cell's disk. */
export interface Buildpack {
  /** Its directory name, which is also the name an app uses to ask for it. */
  name: string;
  source: BuildpackSource;
  /** Absolute path on the cell. */
  dir: string;
}

/** A directory of the operator's folder that is not a usable buildpack, and why. */
export interface SkippedBuildpack {
  name: string;
  why: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The names an `order` file lists: one a line, `#` comments and blank lines skipped, duplicates dropped. */
export function parseOrderFile(text: string): string[] {
  const names: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line !== '' && !names.includes(line)) names.push(line);
  }
  return names;
}

/**
 * The detection order of a folder's buildpacks: those its `order` file lists, in that order, then
 * the others alphabetically (so a buildpack dropped in without editing `order` is still tried).
 * Names the `order` file lists that are not buildpacks are ignored.
 */
export function orderBuildpackNames(available: string[], orderText: string | undefined): string[] {
  const listed = orderText === undefined ? [] : parseOrderFile(orderText).filter((name) => available.includes(name));
  const rest = available.filter((name) => !listed.includes(name)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...listed, ...rest];
}

/**
 * The operator's buildpack and the built-in one an app may mean by a name used elsewhere:
 * `heroku/nodejs` (Heroku), `nodejs_buildpack` / `staticfile_buildpack` (Cloud Foundry).
 */
export function canonicalBuildpackName(requested: string): string {
  let name = requested.trim().toLowerCase();
  name = name.replace(/^heroku\//, '').replace(/[_-]buildpack$/, '');
  const aliases: Record<string, string> = { node: 'nodejs', 'node.js': 'nodejs', staticfile: 'static' };
  return aliases[name] ?? name;
}

/**
 * The buildpack an app names: an exact directory name first (operator buildpacks before built-ins,
 * so an operator can override a built-in of the same name), then the Heroku/Cloud Foundry aliases.
 */
export function findBuildpack(buildpacks: Buildpack[], requested: string): Buildpack | undefined {
  const exact = buildpacks.find((b) => b.name === requested.trim());
  if (exact) return exact;
  const canonical = canonicalBuildpackName(requested);
  return buildpacks.find((b) => b.name.toLowerCase() === canonical);
}

/** The failure of a build that names a buildpack the cell does not have: the name, what exists, the fix. */
export function unknownBuildpackMessage(requested: string, buildpacks: Buildpack[]): string {
  const names = [...new Set(buildpacks.map((b) => b.name))];
  return (
    `unknown buildpack "${requested}": this platform has ${names.join(', ')}; ` +
    'name one of them (manifest.yml "buildpacks" or the BUILDPACK variable), or name none to let detection choose'
  );
}

/**
 * The app's variables as ENV_DIR files (one per variable, its value as the content, as on
 * Heroku). Names that cannot be file names or shell variables are left out and returned apart.
 */
export function envDirFiles(env: Record<string, string>): { files: Array<{ name: string; value: string }>; skipped: string[] } {
  const files: Array<{ name: string; value: string }> = [];
  const skipped: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) files.push({ name, value });
    else skipped.push(name);
  }
  return { files, skipped };
}

const executable = (path: string) => access(path, constants.X_OK).then(() => true, () => false);

/** Why `dir` is not a usable buildpack, or undefined when it is one. */
async function notABuildpack(dir: string): Promise<string | undefined> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info?.isDirectory()) return info?.isSymbolicLink() ? 'a symlink (copy the buildpack into the folder instead)' : 'not a directory';
  for (const script of ['detect', 'compile']) {
    if (!(await executable(join(dir, 'bin', script)))) return `bin/${script} is missing or not executable`;
  }
  return undefined;
}

/** The usable buildpacks of one folder, in its detection order, and the directories skipped. */
async function buildpacksIn(
  folder: string,
  source: BuildpackSource,
): Promise<{ buildpacks: Buildpack[]; skipped: SkippedBuildpack[] }> {
  const entries = await readdir(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const usable: string[] = [];
  const skipped: SkippedBuildpack[] = [];
  for (const name of entries) {
    if (name.startsWith('.')) continue;
    const full = join(folder, name);
    if (!(await lstat(full).then((s) => s.isDirectory() || s.isSymbolicLink(), () => false))) continue;
    if (!NAME.test(name)) {
      skipped.push({ name, why: 'its name must be letters, digits, ".", "_" or "-"' });
      continue;
    }
    const why = await notABuildpack(full);
    if (why) skipped.push({ name, why });
    else usable.push(name);
  }
  const orderText = await readFile(join(folder, 'order'), 'utf8').catch(() => undefined);
  const names = source === 'builtin' ? parseOrderFile(orderText ?? '').filter((n) => usable.includes(n)) : orderBuildpackNames(usable, orderText);
  return { buildpacks: names.map((name) => ({ name, source, dir: join(folder, name) })), skipped };
}

/**
 * Every buildpack of the cell in detection order: the operator's folder first (its `order` file,
 * else alphabetical), then the built-ins in their `order`. A missing operator folder is empty.
 * Reads the disk on every call, so a buildpack dropped into the folder counts from the next build.
 */
export async function listBuildpacks(builtinDir: string, operatorDir?: string): Promise<{ buildpacks: Buildpack[]; skipped: SkippedBuildpack[] }> {
  const operator = operatorDir ? await buildpacksIn(operatorDir, 'operator') : { buildpacks: [], skipped: [] };
  const builtin = await buildpacksIn(builtinDir, 'builtin');
  return { buildpacks: [...operator.buildpacks, ...builtin.buildpacks], skipped: operator.skipped };
}
