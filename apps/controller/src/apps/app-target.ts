import type { AppWithSpace } from '../apps/apps.repository';

/** What a change that may roll out answers: the release it made and the deployment it started, if any. */
export interface ChangeResult {
  release_version: number | null;
  deployment_id: string | null;
}

/** The audit target of a change to `app`. */
export function appTarget(app: AppWithSpace) {
  return { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId };
}
