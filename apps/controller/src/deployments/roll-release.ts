import type { Deployment, Prisma } from '../generated/prisma/client';
import type { AppWithSpace } from '../apps/apps.repository';
import type { DeploymentsService } from '../deployments/deployments.service';
import type { ReleasesRepository, ReleaseWithDroplet } from '../releases/releases.repository';

/** What a change that rolls a release answers (as an env change does). */
export interface ChangeResult {
  release_version: number | null;
  deployment_id: string | null;
}

/**
 * In the caller's transaction (holding the app's row lock): when the app runs a release, a new one
 * with the same droplet, env and process types and `description`, and its deployment recorded
 * (409 while another runs). The caller executes the deployment once the transaction committed, so
 * its start jobs read the bindings as the change left them. Nothing when the app has no release.
 */
export async function rollRelease(
  releases: ReleasesRepository,
  deployments: DeploymentsService,
  app: AppWithSpace,
  currentReleaseId: string | null,
  description: string,
  tx: Prisma.TransactionClient,
): Promise<{ release?: ReleaseWithDroplet; deployment?: Deployment }> {
  if (!currentReleaseId) return {};
  const current = await releases.get(currentReleaseId, tx);
  const release = await releases.create(
    { appId: app.id, dropletId: current.dropletId, env: current.env as Record<string, string>, processTypes: current.processTypes as Record<string, string>, description },
    tx,
  );
  return { release, deployment: await deployments.begin(app, release, tx) };
}

export function appTarget(app: AppWithSpace) {
  return { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId };
}
