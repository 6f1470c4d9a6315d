/** One release as pruning sees it. */
export interface ReleaseRef {
  version: number;
  dropletId: string;
}

/**
 * The droplets to prune: those of an app's releases that no release among the newest `keep`
 * (by version) uses and that the current release does not run. Droplets no release uses (a build
 * whose release is still being made) are never candidates. Pure.
 */
export function dropletsToPrune(releases: readonly ReleaseRef[], currentDropletId: string | null, keep: number): string[] {
  const newest = [...releases].sort((a, b) => b.version - a.version);
  const kept = new Set(newest.slice(0, Math.max(1, keep)).map((r) => r.dropletId));
  if (currentDropletId) kept.add(currentDropletId);
  const out: string[] = [];
  for (const r of newest.slice(keep)) {
    if (!kept.has(r.dropletId) && !out.includes(r.dropletId)) out.push(r.dropletId);
  }
  return out;
}
