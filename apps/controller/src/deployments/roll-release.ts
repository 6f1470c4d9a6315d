import type { Deployment, Prisma } from '../generated/prisma/client';
import type { AppWithSpace } from '../apps/apps.repository';
import type { ReleasesRepository, ReleaseWithDroplet } from '../releases/releases.repository';
import type { DeploymentsService } from './deployments.service';

/**
 * In the caller's transaction (holding the app's row lock): when the app runs a release, a new one
 * with the same droplet and process types, `env` (default: the current release's) and
 * `description`, and its deployment recorded (409 while another runs). The caller executes the
 * deployment once the transaction committed, so its start jobs read what the change left (env,
 * bindings). Nothing when the app has no release.
 */
export async function rollRelease(
  releases: ReleasesRepository,
  deployments: DeploymentsService,
  app: AppWithSpace,
  currentReleaseId: string | null,
  change: { description: string; env?: Record<string, string> },
  tx: Prisma.TransactionClient,
): Promise<{ release?: ReleaseWithDroplet; deployment?: Deployment }> {
  if (!currentReleaseId) return {};
  const current = await releases.get(currentReleaseId, tx);
  const env = change.env ?? (current.env as Record<string, string>);
  const release = await releases.create(
    { appId: app.id, dropletId: current.dropletId, env, processTypes: current.processTypes as Record<string, string>, description: change.description },
    tx,
  );
  return { release, deployment: await deployments.begin(app, release, tx) };
}
