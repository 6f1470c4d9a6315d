import type { AppWithSpace } from './apps.repository';

/** An app as the API shows it. */
export interface AppView {
  id: string;
  name: string;
  state: string;
  space_id: string;
  space_name: string;
  org_name: string;
  current_release_id: string | null;
  url: string;
  git_url: string;
  created_at: string;
  updated_at: string;
}

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
