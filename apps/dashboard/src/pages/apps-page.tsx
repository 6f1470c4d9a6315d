import { useEffect, useState, type FormEvent } from 'react';
import type { ApiClient } from '@paas/api-client';
import type { AppView, RouteView } from '@paas/contracts';
import { ActionStatus, Ago, PollError, StateBadge, useNow } from '../components/ui';
import { routeHref, routerBaseOf } from '../links';
import { Link, navigate } from '../router';
import { scopeKey, useScope, useSession } from '../session';
import { useAction } from '../use-action';
import { usePoll } from '../use-poll';

export interface AppRow {
  app: AppView;
  running: number;
  /** Instances being stopped (a release being replaced, a scale down): not running. */
  stopping: number;
  desired: number;
  crashed: number;
  routes: RouteView[];
  releaseVersion?: number;
  lastDeployAt?: string;
  lastDeployState?: string;
}

/** Release id -> version: releases never change their number, so each is asked for once. */
const releaseVersions = new Map<string, number>();

async function releaseVersion(api: ApiClient, app: AppView): Promise<number | undefined> {
  const id = app.current_release_id;
  if (!id) return undefined;
  if (!releaseVersions.has(id)) {
    for (const r of await api.releases(app.id)) releaseVersions.set(r.id, r.version);
  }
  return releaseVersions.get(id);
}

async function loadRows(api: ApiClient, spaceIds: string[] | undefined): Promise<AppRow[]> {
  const [apps, routes] = await Promise.all([api.listApps({ spaceIds }), api.routes({ spaceIds })]);
  return Promise.all(
    apps.resources.map(async (app) => {
      const [instances, processes, deployments, version] = await Promise.all([
        api.instances(app.id),
        api.processes(app.id),
        api.deployments(app.id, 1),
        releaseVersion(api, app),
      ]);
      return {
        app,
        // The API's counts: RUNNING alone is running, never the STOPPING instances of a release being replaced.
        running: instances.summary.reduce((n, c) => n + c.running, 0),
        stopping: instances.summary.reduce((n, c) => n + c.stopping, 0),
        crashed: instances.summary.reduce((n, c) => n + c.crashed, 0),
        desired: app.state === 'STARTED' ? processes.reduce((n, p) => n + p.instances, 0) : 0,
        routes: routes.filter((r) => r.destinations.some((d) => d.app.id === app.id)),
        releaseVersion: version,
        lastDeployAt: deployments[0]?.created_at,
        lastDeployState: deployments[0]?.state,
      };
    }),
  );
}

/** Every app of the chosen org/space: state, running/desired instances, routes, release, last deploy; create one. */
export function AppsPage() {
  const { api } = useSession();
  const scope = useScope();
  const now = useNow(5_000);
  const rows = usePoll(`apps:${scopeKey(scope)}`, () => loadRows(api, scope.spaceIds));
  useEffect(() => {
    document.title = 'Apps · paas';
  }, []);

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Apps</h1>
        <CreateApp onCreated={rows.refresh} />
      </div>
      <PollError error={rows.error} what="the apps" />
      {!rows.data ? (
        <p className="muted" role="status">
          Loading apps…
        </p>
      ) : rows.data.length === 0 ? (
        <p className="empty">No apps here yet. Create one above, then push to its git URL.</p>
      ) : (
        <div className="table-wrap">
          <table className="apps-table">
            <caption className="visually-hidden">Apps</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Instances</th>
                <th scope="col">Routes</th>
                <th scope="col">Release</th>
                <th scope="col">Last deploy</th>
                {scope.spaceId ? null : <th scope="col">Space</th>}
              </tr>
            </thead>
            <tbody>
              {rows.data.map((row) => (
                <tr key={row.app.id} data-app={row.app.name}>
                  <th scope="row">
                    <Link to={`/apps/${encodeURIComponent(row.app.name)}`}>{row.app.name}</Link>
                  </th>
                  <td>
                    <StateBadge state={row.app.state} />
                  </td>
                  <td className="instances-cell">
                    <span className={row.running < row.desired ? 'warn-text' : undefined} aria-label={`${row.running} of ${row.desired} instances running`}>
                      {row.running}/{row.desired}
                    </span>
                    {row.stopping > 0 ? <span className="muted"> · {row.stopping} stopping</span> : null}
                    {row.crashed > 0 ? <span className="bad-text"> · {row.crashed} crashed</span> : null}
                  </td>
                  <td>
                    {row.routes.length === 0 ? (
                      <span className="muted">none</span>
                    ) : (
                      <ul className="inline-list">
                        {row.routes.map((r) => (
                          <li key={r.id}>
                            <a href={routeHref(r.url, routerBaseOf(row.app.url))} target="_blank" rel="noreferrer">
                              {r.url}
                            </a>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>{row.releaseVersion ? `v${row.releaseVersion}` : <span className="muted">none</span>}</td>
                  <td>
                    <Ago iso={row.lastDeployAt} now={now} />
                    {row.lastDeployState && row.lastDeployState !== 'DEPLOYED' ? (
                      <>
                        {' '}
                        <StateBadge state={row.lastDeployState} />
                      </>
                    ) : null}
                  </td>
                  {scope.spaceId ? null : (
                    <td>
                      {row.app.org_name} / {row.app.space_name}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function CreateApp({ onCreated }: { onCreated: () => void }) {
  const { api } = useSession();
  const scope = useScope();
  const [name, setName] = useState('');
  const action = useAction(onCreated);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const wanted = name.trim();
    const ok = await action.run(`Creating ${wanted}…`, async () => {
      const app = await api.createApp(wanted, scope.spaceId ? { space_id: scope.spaceId } : {});
      return `Created ${app.name} in ${app.org_name} / ${app.space_name}. Push to ${app.git_url}`;
    });
    if (ok) {
      setName('');
      navigate(`/apps/${encodeURIComponent(wanted)}`);
    }
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <label htmlFor="new-app">New app</label>
      <input id="new-app" value={name} onChange={(e) => setName(e.target.value)} placeholder="my-app" autoComplete="off" spellCheck={false} required />
      <button type="submit" className="primary" disabled={action.busy}>
        Create app
      </button>
      <span className="hint">{scope.spaceId ? 'in the chosen space' : 'in the default space'}</span>
      <ActionStatus state={action} onDismiss={action.clear} />
    </form>
  );
}
