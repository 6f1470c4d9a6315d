import { useEffect } from 'react';
import { ApiError } from '@paas/api-client';
import { ActionStatus, ConfirmButton, PollError, StateBadge } from '../components/ui';
import { Link } from '../router';
import { useSession } from '../session';
import { useAction } from '../use-action';
import { usePoll } from '../use-poll';
import { InstancesSection } from './app/instances-section';
import { ScaleSection } from './app/scale-section';
import { AppRoutesSection } from './app/routes-section';
import { ServicesSection } from './app/services-section';
import { EnvSection } from './app/env-section';
import { ReleasesSection } from './app/releases-section';
import { DeploysSection } from './app/deploys-section';
import { LogsSection } from './app/logs-section';

/**
 * One app: its state and actions, instances, scale, routes, bound services, env, releases, deploy history with
 * build logs, and its live log. Every part polls on its own (every 2 s) while the page is open.
 */
export function AppPage({ name }: { name: string }) {
  const { api } = useSession();
  const core = usePoll(`app:${name}`, async () => {
    const app = await api.getApp(name);
    const [instances, processes] = await Promise.all([api.instances(app.id), api.processes(app.id)]);
    return { app, instances: instances.resources, summary: instances.summary, processes };
  });
  const action = useAction(core.refresh);
  useEffect(() => {
    document.title = `${name} · paas`;
  }, [name]);

  const missing = core.error instanceof ApiError && core.error.status === 404 && !core.data;
  if (missing) {
    return (
      <>
        <h1 tabIndex={-1}>{name}</h1>
        <p className="status status-error" role="alert">
          {core.error?.message}
        </p>
        <p>
          Back to the <Link to="/apps">apps</Link>.
        </p>
      </>
    );
  }
  const data = core.data;
  const app = data?.app;

  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/apps">Apps</Link> <span aria-hidden="true">/</span> <span>{name}</span>
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>
          {name} {app ? <StateBadge state={app.state} /> : null}
        </h1>
        {app ? (
          <div className="button-row" role="group" aria-label="App actions">
            <button type="button" disabled={action.busy || app.state === 'STARTED'} onClick={() => void action.run(`Starting ${name}…`, async () => {
              const r = await api.start(app.id);
              return r.release_version ? `Started release v${r.release_version}` : 'Started (no release yet: push first)';
            })}>
              Start
            </button>
            <ConfirmButton
              label="Stop"
              confirmLabel={`Stop every instance of ${name}`}
              disabled={action.busy || app.state === 'STOPPED'}
              onConfirm={() => void action.run(`Stopping ${name}…`, async () => {
                await api.stop(app.id);
                return 'Stopped: every instance is stopping';
              })}
            />
            <button type="button" disabled={action.busy || !app.current_release_id} onClick={() => void action.run(`Restarting ${name}…`, async () => {
              const r = await api.restart(app.id);
              return `Restarting release v${r.release_version} (a rolling deployment)`;
            })}>
              Restart
            </button>
          </div>
        ) : null}
      </div>
      <ActionStatus state={action} onDismiss={action.clear} />
      <PollError error={core.error} what="the app" />
      {app ? (
        <dl className="facts">
          <div>
            <dt>Space</dt>
            <dd>
              {app.org_name} / {app.space_name}
            </dd>
          </div>
          <div>
            <dt>URL</dt>
            <dd>
              <a href={app.url} target="_blank" rel="noreferrer">
                {app.url}
              </a>
            </dd>
          </div>
          <div>
            <dt>Git remote</dt>
            <dd>
              <code>{app.git_url}</code>
            </dd>
          </div>
        </dl>
      ) : (
        <p className="muted" role="status">
          Loading {name}…
        </p>
      )}
      {data && app ? (
        <div className="app-grid">
          <InstancesSection instances={data.instances} summary={data.summary} />
          <ScaleSection app={app} processes={data.processes} onChanged={core.refresh} />
          <AppRoutesSection app={app} />
          <ServicesSection app={app} onChanged={core.refresh} />
          <EnvSection app={app} />
          <ReleasesSection app={app} onChanged={core.refresh} />
          <DeploysSection app={app} />
          <LogsSection app={app} />
        </div>
      ) : null}
    </>
  );
}
