import type { FormEvent } from 'react';
import type { AppView } from '@paas/contracts';
import { ActionStatus, ConfirmButton, PollError, Section } from '../../components/ui';
import { RouteAddressFields, useRouteAddress } from '../../components/route-address';
import { routeHref, routerBaseOf } from '../../links';
import { useSession } from '../../session';
import { useAction } from '../../use-action';
import { RouteHttpsForm } from './route-https-form';
import { usePoll } from '../../use-poll';

/** The routes that send traffic to this app (links through the router); map a new one, unmap one. */
export function AppRoutesSection({ app }: { app: AppView }) {
  const { api } = useSession();
  const routes = usePoll(`app-routes:${app.id}`, () => api.routes({ appIds: [app.id] }));
  const action = useAction(routes.refresh);
  const address = useRouteAddress();
  const base = routerBaseOf(app.url);

  const map = async (event: FormEvent) => {
    event.preventDefault();
    const domain = address.domain;
    if (!domain) return;
    const wanted = { host: address.host.trim(), path: address.path.trim() };
    const label = `${wanted.host ? `${wanted.host}.` : ''}${domain.name}${wanted.path}`;
    const ok = await action.run(`Mapping ${label}…`, async () => {
      const existing = (await api.routes({ hosts: [wanted.host], domainIds: [domain.id] })).find((r) => r.path === wanted.path);
      const route = existing ?? (await api.createRoute({ host: wanted.host, domain_id: domain.id, path: wanted.path, space_id: app.space_id }));
      await api.addDestinations(route.id, [{ app: { id: app.id } }]);
      return `Mapped ${route.url} to ${app.name}`;
    });
    if (ok) address.clear();
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
                <RouteHttpsForm route={route} action={action} />
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
        <RouteAddressFields address={address} hostPlaceholder={app.name} />
        <button type="submit" className="primary" disabled={action.busy || !address.domainId}>
          Map route
        </button>
      </form>
      <ActionStatus state={action} onDismiss={action.clear} />
    </Section>
  );
}
