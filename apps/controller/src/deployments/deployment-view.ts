import type { Deployment } from '../generated/prisma/client';

/** A deployment as the API shows it. */
export function deploymentView(d: Deployment) {
  return { id: d.id, release_id: d.releaseId, state: d.state, reason: d.reason, created_at: d.createdAt.toISOString(), updated_at: d.updatedAt.toISOString() };
}
