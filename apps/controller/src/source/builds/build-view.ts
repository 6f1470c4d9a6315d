import type { Build } from '../../generated/prisma/client';

/** A build as the API shows it. */
export function buildView(b: Build) {
  return {
    id: b.id,
    state: b.state,
    commit_sha: b.commitSha,
    buildpack: b.buildpack,
    error: b.error,
    cell_id: b.cellId,
    created_at: b.createdAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
  };
}
