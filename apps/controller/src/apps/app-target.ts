import type { AppWithSpace } from './apps.repository';

/** The audit target of a change to `app`. */
export function appTarget(app: AppWithSpace) {
  return { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId };
}
