import { useState, type FormEvent } from 'react';
import type { AppView } from '@paas/contracts';
import { ActionStatus, ConfirmButton, PollError, Section } from '../../components/ui';
import { routeHref, routerBaseOf } from '../../links';
import { useSession } from '../../session';
import { useAction } from '../../use-action';
import { usePoll } from '../../use-poll';

/** The routes that send traffic to this app (links through the router); map a new one, unmap one. */
export function AppRoutesSection({ app }: { app: AppView }) {
  const { api } = useSession();
  const routes = usePoll(`app-routes:${app.id}`, () => api.routes({ appIds: [app.id] }));
  const domains = usePoll('domains', () => api.domains(), 30_000);
  const action = useAction(routes.refresh);
  const [host, setHost] = useState('');
  const [domainId, setDomainId] = useState('');
  const [path, setPath] = useState('');
  const base = routerBaseOf(app.url);
  const chosenDomain = domainId || domains.data?.find((d) => d.default)?.id || domains.data?.[0]?.id || '';

  const map = async (event: FormEvent) => {
    event.preventDefault();
    const domain = domains.data?.find((d) => d.id === chosenDomain);
    if (!domain) return;
    const wanted = { host: host.trim(), path: path.trim() };
    const label = `${wanted.host ? `${wanted.host}.` : ''}${domain.name}${wanted.path}`;
    const ok = await action.run(`Mapping ${label}…`, async () => {
      const existing = (await api.routes({ hosts: [wanted.host], domainIds: [domain.id] })).find((r) => r.path === wanted.path);
      const route = existing ?? (await api.createRoute({ host: wanted.host, domain_id: domain.id, path: wanted.path, space_id: app.space_id }));
      await api.addDestinations(route.id, [{ app: { id: app.id } }]);
      return `Mapped ${route.url} to ${app.name}`;
    });
    if (ok) {
      setHost('');
      setPath('');
    }
  };

  return (
    <Section title="Routes" id="routes">
      <PollError error={routes.error} what="the routes" />
      {!routes.data ? (
        <p className="muted">Loading…</p>
      ) : routes.data.length === 0 ? (
        <p className="empty">No route: the app gets no traffic. Map one below.</p>
      ) : (
        <ul className="route-list">
          {routes.data.map((route) => {
            const mine = route.destinations.filter((d) => d.app.id === app.id);
            const others = route.destinations.length - mine.length;
            return (
              <li key={route.id}>
                <a href={routeHref(route.url, base)} target="_blank" rel="noreferrer">
                  {route.url}
                </a>
                {others > 0 ? <span className="muted small"> (shared with {others} other destination{others > 1 ? 's' : ''})</span> : null}
                <ConfirmButton
                  label="Unmap"
                  confirmLabel={`Unmap ${route.url}`}
                  className="small-button"
                  disabled={action.busy}
                  onConfirm={() =>
                    void action.run(`Unmapping ${route.url}…`, async () => {
                      for (const d of mine) await api.removeDestination(route.id, d.id);
                      return `Unmapped ${route.url} from ${app.name}`;
                    })
                  }
                />
              </li>
            );
          })}
        </ul>
      )}
      <form className="map-form" onSubmit={map} aria-label="Map a route">
        <label>
          <span>Host</span>
          <input value={host} onChange={(e) => setHost(e.target.value)} placeholder={app.name} autoComplete="off" spellCheck={false} />
        </label>
        <label>
          <span>Domain</span>
          <select value={chosenDomain} onChange={(e) => setDomainId(e.target.value)}>
            {(domains.data ?? []).map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Path</span>
          <input value={path} onChange={(e) => setPath(e.target.value)} placeholder="/optional" autoComplete="off" spellCheck={false} />
        </label>
        <button type="submit" className="primary" disabled={action.busy || !chosenDomain}>
          Map route
        </button>
      </form>
      <ActionStatus state={action} onDismiss={action.clear} />
    </Section>
  );
}
