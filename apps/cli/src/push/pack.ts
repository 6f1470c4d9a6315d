import { stat } from 'node:fs/promises';
import { create } from 'tar';
import type { SourceFile } from './source-files';

/**
 * Writes `files` of `root` into a gzipped tar at `outFile`, paths relative to root, without
 * owners (portable), symbolic links as links. Returns the archive's size in bytes.
 */
export async function packSource(root: string, files: readonly SourceFile[], outFile: string): Promise<number> {
  // node-tar reads a name starting with "@" as an archive to append: "./" keeps it a file name.
  const paths = files.map((f) => (f.path.startsWith('@') ? `./${f.path}` : f.path));
  await create({ gzip: true, cwd: root, file: outFile, portable: true, follow: false, noDirRecurse: true }, paths);
  return (await stat(outFile)).size;
}
