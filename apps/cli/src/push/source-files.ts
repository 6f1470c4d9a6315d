import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** Never uploaded: version-control metadata and Finder litter (as the cf CLI leaves them out). */
export const ALWAYS_IGNORED = ['.git', '.hg', '.svn', '_darcs', '.DS_Store'];

/** One ignore file's rules, for the paths under `base` ('' = the root). */
export interface IgnoreLayer {
  base: string;
  rules: Ignore;
}

/** A layer from the text of a .gitignore or .cfignore (gitignore syntax). */
export function ignoreLayer(base: string, text: string): IgnoreLayer {
  return { base, rules: ignore().add(text) };
}

/**
 * Whether `path` (relative to the root, "/"-separated) is ignored by `layers` (outermost first),
 * as git decides it: the deepest layer that says anything about the path wins, and a later rule
 * of a file beats an earlier one (`!pattern` re-includes). Directories are tested with a trailing
 * "/" so `build/` patterns match them only. Pure.
 */
export function isIgnored(path: string, isDir: boolean, layers: readonly IgnoreLayer[]): boolean {
  const name = posix.basename(path);
  if (ALWAYS_IGNORED.includes(name)) return true;
  let ignored = false;
  for (const layer of layers) {
    if (layer.base && !path.startsWith(layer.base + '/')) continue;
    const relative = layer.base ? path.slice(layer.base.length + 1) : path;
    const verdict = layer.rules.test(isDir ? relative + '/' : relative);
    if (verdict.ignored) ignored = true;
    else if (verdict.unignored) ignored = false;
  }
  return ignored;
}

export interface SourceFile {
  /** Relative to the root, "/"-separated. */
  path: string;
  size: number;
}

/**
 * The files (and symbolic links) of `root` a push uploads, sorted: everything except what the
 * .gitignore files (at the root and in subdirectories, each for the paths below it) and the
 * root's .cfignore exclude, and except ALWAYS_IGNORED. An ignored directory is not entered (as in
 * git, nothing below it can be re-included). Symbolic links are kept as links, never followed.
 */
export async function listSourceFiles(root: string): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  const readIgnore = (file: string) => readFile(file, 'utf8').catch(() => undefined);
  const rootLayers: IgnoreLayer[] = [];
  for (const name of ['.gitignore', '.cfignore']) {
    const text = await readIgnore(join(root, name));
    if (text !== undefined) rootLayers.push(ignoreLayer('', text));
  }
  const walk = async (dir: string, layers: IgnoreLayer[]) => {
    const entries = (await readdir(join(root, dir), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      const isDir = entry.isDirectory();
      if (isIgnored(path, isDir, layers)) continue;
      if (isDir) {
        const text = await readIgnore(join(root, path, '.gitignore'));
        await walk(path, text === undefined ? layers : [...layers, ignoreLayer(path, text)]);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        files.push({ path, size: entry.isFile() ? (await lstat(join(root, path))).size : 0 });
      }
      // Sockets, FIFOs and devices are never uploaded.
    }
  };
  await walk('', rootLayers);
  return files;
}
