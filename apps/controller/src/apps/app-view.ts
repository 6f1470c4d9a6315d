import type { AppWithSpace } from './apps.repository';

import type { AppView } from '@paas/contracts';

export type { AppView };

export function appView(app: AppWithSpace, routerUrl: string, appsDomain: string, controllerUrl: string): AppView {
  const router = new URL(routerUrl);
  const port = router.port ? `:${router.port}` : '';
  return {
    id: app.id,
    name: app.name,
    state: app.state,
    space_id: app.spaceId,
    space_name: app.space.name,
    org_name: app.space.org.name,
    current_release_id: app.currentReleaseId,
    url: `${router.protocol}//${app.name}.${appsDomain}${port}/`,
    git_url: `${controllerUrl}/git/${app.name}.git`,
    created_at: app.createdAt.toISOString(),
    updated_at: app.updatedAt.toISOString(),
  };
}
