import { lstat, opendir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** A walk of an upper dir stops counting after this many entries (a bound on the cost of one sample). */
const MAX_WALK_ENTRIES = 200_000;

/**
 * Bytes used on a disk-limited writable layer: the used blocks of the ext4 filesystem mounted
 * at `mountPoint` (f_blocks - f_bfree, as `df` shows Used; ext4 leaves its own metadata out of
 * f_blocks). One statfs, whatever the container wrote. Undefined when nothing is mounted there:
 * statfs would then describe the host's filesystem.
 */
export async function mountedLayerBytes(mountPoint: string, parentDir: string): Promise<number | undefined> {
  const [mount, parent] = await Promise.all([stat(mountPoint).catch(() => undefined), stat(parentDir).catch(() => undefined)]);
  if (!mount || !parent || mount.dev === parent.dev) return undefined;
  const fs = await statfs(mountPoint);
  return Math.max(0, (fs.blocks - fs.bfree) * fs.bsize);
}

/**
 * Bytes the files under `dir` take on disk (allocated blocks, as `du` counts them; hard links
 * once), for a writable layer without a disk limit (a plain upper dir on the host). Bounded:
 * at most MAX_WALK_ENTRIES entries are counted. 0 when `dir` does not exist.
 */
export async function directoryBytes(dir: string, maxEntries = MAX_WALK_ENTRIES): Promise<number> {
  let total = 0;
  let entries = 0;
  const seen = new Set<string>();
  const pending = [dir];
  while (pending.length > 0 && entries < maxEntries) {
    const current = pending.pop()!;
    const handle = await opendir(current).catch(() => undefined);
    if (!handle) continue;
    for await (const entry of handle) {
      if (++entries > maxEntries) break;
      const path = join(current, entry.name);
      const info = await lstat(path).catch(() => undefined);
      if (!info) continue;
      if (info.nlink > 1) {
        const key = `${info.dev}:${info.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += info.blocks * 512;
      if (entry.isDirectory()) pending.push(path);
    }
  }
  return total;
}
