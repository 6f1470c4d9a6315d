import { useEffect, useState, type FormEvent } from 'react';
import type { AppView, RouteView } from '@paas/contracts';
import { ActionStatus, ConfirmButton, PollError } from '../components/ui';
import { RouteAddressFields, useRouteAddress } from '../components/route-address';
import { routeHref, routerBaseOf, type RouterBase } from '../links';
import { Link } from '../router';
import { scopeKey, useScope, useSession } from '../session';
import { useAction } from '../use-action';
import { usePoll } from '../use-poll';

/** Every route of the chosen org/space with its destinations and weights; bind and unbind apps; create and delete routes. */
export function RoutesPage() {
  const { api } = useSession();
  const scope = useScope();
  const data = usePoll(`routes:${scopeKey(scope)}`, async () => {
    const [routes, apps] = await Promise.all([api.routes({ spaceIds: scope.spaceIds }), api.listApps({ spaceIds: scope.spaceIds })]);
    return { routes, apps: apps.resources };
  });
  const action = useAction(data.refresh);
  useEffect(() => {
    document.title = 'Routes · paas';
  }, []);
  const base = routerBaseOf(data.data?.apps[0]?.url);
  const spaceName = (id: string) => scope.spaces.find((s) => s.id === id)?.name ?? id.slice(0, 8);

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Routes</h1>
      </div>
      <NewRoute onCreated={data.refresh} />
      <ActionStatus state={action} onDismiss={action.clear} />
      <PollError error={data.error} what="the routes" />
      {!data.data ? (
        <p className="muted" role="status">
          Loading routes…
        </p>
      ) : data.data.routes.length === 0 ? (
        <p className="empty">No routes here.</p>
      ) : (
        <ul className="route-cards">
          {data.data.routes.map((route) => (
            <RouteCard
              key={route.id}
              route={route}
              apps={data.data!.apps.filter((a) => a.space_id === route.space_id)}
              base={base}
              space={scope.spaceId ? undefined : spaceName(route.space_id)}
              action={action}
            />
          ))}
        </ul>
      )}
    </>
  );
}

function RouteCard({
  route,
  apps,
  base,
  space,
  action,
}: {
  route: RouteView;
  apps: AppView[];
  base: RouterBase;
  space?: string;
  action: ReturnType<typeof useAction>;
}) {
  const { api } = useSession();
  const [appId, setAppId] = useState('');
  const [weight, setWeight] = useState('');
  const total = route.destinations.reduce((n, d) => n + (d.weight ?? 1), 0);
  const chosen = appId || apps[0]?.id || '';

  const bind = async (event: FormEvent) => {
    event.preventDefault();
    const app = apps.find((a) => a.id === chosen);
    if (!app) return;
    await action.run(`Binding ${app.name} to ${route.url}…`, async () => {
      await api.addDestinations(route.id, [{ app: { id: app.id }, ...(weight ? { weight: Number(weight) } : {}) }]);
      return `Bound ${app.name} to ${route.url}${weight ? ` with weight ${weight}` : ''}`;
    });
  };

  return (
    <li className="card route-card" data-route={route.url}>
      <div className="card-head">
        <h2>
          <a href={routeHref(route.url, base)} target="_blank" rel="noreferrer">
            {route.url}
          </a>
        </h2>
        <div className="card-actions">
          {space ? <span className="muted small">space {space}</span> : null}
          <ConfirmButton
            label="Delete route"
            confirmLabel={`Delete ${route.url}`}
            className="small-button"
            disabled={action.busy}
            onConfirm={() =>
              void action.run(`Deleting ${route.url}…`, async () => {
                await api.deleteRoute(route.id);
                return `Deleted ${route.url}`;
              })
            }
          />
        </div>
      </div>
      {route.destinations.length === 0 ? (
        <p className="empty">No destination: the router answers 404 for it.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">App</th>
                <th scope="col">Process</th>
                <th scope="col">Port</th>
                <th scope="col">Weight</th>
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {route.destinations.map((d) => (
                <tr key={d.id}>
                  <th scope="row">
                    <Link to={`/apps/${encodeURIComponent(d.app.name)}`}>{d.app.name}</Link>
                  </th>
                  <td>{d.process_type}</td>
                  <td>{d.port}</td>
                  <td>
                    {d.weight ?? 1}
                    {route.destinations.length > 1 ? <span className="muted small"> ({Math.round(((d.weight ?? 1) / total) * 100)}%)</span> : null}
                  </td>
                  <td>
                    <ConfirmButton
                      label="Unbind"
                      confirmLabel={`Unbind ${d.app.name}`}
                      className="small-button"
                      disabled={action.busy}
                      onConfirm={() =>
                        void action.run(`Unbinding ${d.app.name} from ${route.url}…`, async () => {
                          await api.removeDestination(route.id, d.id);
                          return `Unbound ${d.app.name} from ${route.url}`;
                        })
                      }
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {apps.length > 0 ? (
        <form className="inline-form" onSubmit={bind} aria-label={`Bind an app to ${route.url}`}>
          <label>
            <span>App</span>
            <select value={chosen} onChange={(e) => setAppId(e.target.value)}>
              {apps.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>Weight</span>
            <input type="number" min={1} max={100} value={weight} onChange={(e) => setWeight(e.target.value)} placeholder="1" className="narrow" />
          </label>
          <button type="submit" disabled={action.busy}>
            Bind
          </button>
        </form>
      ) : null}
    </li>
  );
}

function NewRoute({ onCreated }: { onCreated: () => void }) {
  const { api } = useSession();
  const scope = useScope();
  const address = useRouteAddress();
  const [spaceId, setSpaceId] = useState('');
  const action = useAction(onCreated);
  const spaces = scope.spaces.filter((s) => !scope.orgId || s.org_id === scope.orgId);
  const chosenSpace = scope.spaceId || spaceId || spaces[0]?.id || '';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await action.run('Creating the route…', async () => {
      const route = await api.createRoute({ host: address.host.trim(), domain_id: address.domainId, path: address.path.trim(), space_id: chosenSpace });
      return `Created ${route.url}: bind an app to it below`;
    });
    if (ok) {
      address.clear();
    }
  };

  return (
    <details className="card new-route">
      <summary>New route</summary>
      <form className="inline-form" onSubmit={submit}>
        <RouteAddressFields address={address} />
        {scope.spaceId ? null : (
          <label>
            <span>Space</span>
            <select value={chosenSpace} onChange={(e) => setSpaceId(e.target.value)}>
              {spaces.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.org_name} / {s.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="submit" className="primary" disabled={action.busy || !address.domainId || !chosenSpace}>
          Create route
        </button>
      </form>
      <ActionStatus state={action} onDismiss={action.clear} />
    </details>
  );
}
