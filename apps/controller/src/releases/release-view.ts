import type { ReleaseWithDroplet } from './releases.repository';

/** A release as the API shows it; `current` when it is the app's current release. */
export function releaseView(r: ReleaseWithDroplet, currentReleaseId: string | null) {
  return {
    id: r.id,
    version: r.version,
    description: r.description,
    droplet_id: r.dropletId,
    build_id: r.droplet.buildId,
    buildpack: r.droplet.buildpack,
    /** True when the droplet was pruned (PAAS_RELEASES_KEPT): the release cannot be rolled back to. */
    droplet_pruned: r.droplet.prunedAt !== null,
    process_types: r.processTypes,
    env_names: Object.keys(r.env as Record<string, string>).sort(),
    current: r.id === currentReleaseId,
    created_at: r.createdAt.toISOString(),
  };
}
