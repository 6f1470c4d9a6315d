import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** A folder of the cell's Node.js cache: `<version>` (touched by each staging that uses it) or `.tmp-*` (a download). */
export interface CachedNodeVersion {
  name: string;
  /** Last use (a version) or creation (a download in progress). */
  mtimeMs: number;
}

/**
 * Which folders of the Node.js cache to delete: all but the `keep` most recently used versions,
 * except those used within `graceMs` (a staging may be copying the binary right now); downloads
 * (`.tmp-*`) only once older than `graceMs` (left behind by a staging that was killed).
 */
export function nodeVersionsToPrune(entries: CachedNodeVersion[], keep: number, nowMs: number, graceMs: number): string[] {
  const recent = (e: CachedNodeVersion) => nowMs - e.mtimeMs < graceMs;
  const downloads = entries.filter((e) => e.name.startsWith('.'));
  const versions = entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => b.mtimeMs - a.mtimeMs);
  return [
    ...versions.slice(keep).filter((e) => !recent(e)),
    ...downloads.filter((e) => !recent(e)),
  ].map((e) => e.name);
}

/** Applies nodeVersionsToPrune to the folder `dir`; returns the names removed. A missing folder is empty. */
export async function pruneNodeVersions(dir: string, keep: number, graceMs: number, nowMs = Date.now()): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const entries: CachedNodeVersion[] = [];
  for (const name of names) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info?.isDirectory()) entries.push({ name, mtimeMs: info.mtimeMs });
  }
  const doomed = nodeVersionsToPrune(entries, keep, nowMs, graceMs);
  for (const name of doomed) await rm(join(dir, name), { recursive: true, force: true });
  return doomed;
}
