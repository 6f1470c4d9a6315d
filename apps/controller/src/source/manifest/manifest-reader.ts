import { createReadStream } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { Parser, type ReadEntry } from 'tar';
import { BlobstoreService } from '../../storage/blobstore.service';

/** The names Cloud Foundry's CLI looks for at the root of an app, in order of preference. */
export const MANIFEST_FILE_NAMES = ['manifest.yml', 'manifest.yaml'] as const;
/** A manifest larger than this is refused (a real one is a few hundred bytes). */
export const MANIFEST_MAX_BYTES = 256 * 1024;

export type ManifestFile =
  | { name: string; text: string }
  | { name: string; problem: string };

/**
 * Finds the manifest in a pushed source package (the `git archive` tar the hook sends, stored in
 * the blobstore) without unpacking anything else. Undefined when the commit has none; a package
 * that is not a tar has none either.
 */
@Injectable()
export class ManifestReader {
  constructor(private readonly blobs: BlobstoreService) {}

  async read(packageId: string): Promise<{ file?: ManifestFile; warnings: string[] }> {
    const found = await readRootEntries(this.blobs.path('packages', packageId), MANIFEST_FILE_NAMES, MANIFEST_MAX_BYTES);
    const warnings: string[] = [];
    const present = MANIFEST_FILE_NAMES.filter((n) => found.has(n));
    if (present.length > 1) warnings.push(`both ${present.join(' and ')} are in the commit: ${present[0]} is used`);
    const name = present[0];
    if (!name) return { warnings };
    const entry = found.get(name)!;
    if (entry.kind === 'not-a-file') return { file: { name, problem: `${name} is a ${entry.type}, not a file: commit the manifest itself` }, warnings };
    if (entry.kind === 'too-large') {
      return { file: { name, problem: `${name} has ${entry.size} bytes; a manifest may have at most ${MANIFEST_MAX_BYTES / 1024} KB` }, warnings };
    }
    return { file: { name, text: entry.data.toString('utf8').replace(/^\uFEFF/, '') }, warnings };
  }
}

/** How a member type that is no file is named in messages (`manifest.yml is a hard link, not a file`). */
const MEMBER_KINDS: Record<string, string> = {
  SymbolicLink: 'symbolic link',
  Link: 'hard link',
  Directory: 'directory',
  FIFO: 'FIFO',
  CharacterDevice: 'device',
  BlockDevice: 'device',
};

type Entry = { kind: 'file'; data: Buffer } | { kind: 'not-a-file'; type: string } | { kind: 'too-large'; size: number };

/** Reads the root entries named `names` of a tar (gzipped or not) file; other entries are skipped. */
export function readRootEntries(file: string, names: readonly string[], maxBytes: number): Promise<Map<string, Entry>> {
  return new Promise((resolve, reject) => {
    const found = new Map<string, Entry>();
    // Not strict: a package that is not a tar at all just has no manifest.
    const parser = new Parser({ strict: false });
    parser.on('entry', (entry: ReadEntry) => {
      const path = entry.path.replace(/^\.\//, '');
      if (!names.includes(path)) {
        entry.resume();
        return;
      }
      if (entry.type !== 'File') {
        found.set(path, { kind: 'not-a-file', type: MEMBER_KINDS[entry.type] ?? entry.type });
        entry.resume();
        return;
      }
      if ((entry.size ?? 0) > maxBytes) {
        found.set(path, { kind: 'too-large', size: entry.size ?? 0 });
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () => found.set(path, { kind: 'file', data: Buffer.concat(chunks) }));
    });
    parser.on('end', () => resolve(found));
    // A broken archive (e.g. a cut gzip stream): what was found before the break, usually nothing.
    parser.on('error', () => resolve(found));
    const input = createReadStream(file);
    input.on('error', reject);
    input.pipe(parser);
  });
}
