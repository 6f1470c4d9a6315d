import { useEffect, useRef } from 'react';
import { Link, navigate, usePath } from '../router';
import { useScope, useSession } from '../session';
import { AppsPage } from '../pages/apps-page';
import { AppPage } from '../pages/app-page';
import { RoutesPage } from '../pages/routes-page';
import { ServicesPage } from '../pages/services-page';
import { DomainsPage } from '../pages/domains-page';
import { CellsPage } from '../pages/cells-page';
import { EventsPage } from '../pages/events-page';

const NAV = [
  { to: '/apps', label: 'Apps' },
  { to: '/routes', label: 'Routes' },
  { to: '/services', label: 'Services' },
  { to: '/domains', label: 'Domains' },
  { to: '/cells', label: 'Cells' },
  { to: '/events', label: 'Events' },
];

/** Header (navigation, org/space switcher, who is signed in), the page of the current path, footer. */
export function Shell() {
  const path = usePath();
  const { me, apiUrl, signOut } = useSession();
  const first = useRef(true);

  useEffect(() => {
    if (path === '/' || path === '') navigate('/apps', { replace: true });
  }, [path]);

  // After a navigation (not the first page), focus the new page's heading, as a full page load would reset focus.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [path]);

  const appMatch = /^\/apps\/([^/]+)\/?$/.exec(path);
  let page;
  if (appMatch) page = <AppPage name={decodeURIComponent(appMatch[1])} />;
  else if (path === '/apps' || path === '/apps/') page = <AppsPage />;
  else if (path === '/routes') page = <RoutesPage />;
  else if (path === '/services') page = <ServicesPage />;
  else if (path === '/domains') page = <DomainsPage />;
  else if (path === '/cells') page = <CellsPage />;
  else if (path === '/events') page = <EventsPage />;
  else if (path === '/' || path === '') page = null;
  else page = <NotFound path={path} />;

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/apps" className="brand">
          <span className="brand-mark" aria-hidden="true">
            p
          </span>
          paas
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => {
              const current = path === item.to || path.startsWith(`${item.to}/`);
              return (
                <li key={item.to}>
                  <Link to={item.to} aria-current={current ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <ScopeSwitcher />
        <div className="user">
          <span title={me.is_admin ? 'platform admin' : undefined}>
            {me.name}
            {me.is_admin ? <span className="muted"> (admin)</span> : null}
          </span>
          <button type="button" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <footer className="footer muted">
        API <code>{apiUrl}</code> · <a href={`${apiUrl}/v1/docs`}>API reference</a>
      </footer>
    </>
  );
}

function ScopeSwitcher() {
  const scope = useScope();
  const spaces = scope.spaces.filter((s) => !scope.orgId || s.org_id === scope.orgId);
  return (
    <div className="switcher">
      <label>
        <span>Org</span>
        <select value={scope.orgId} onChange={(e) => scope.setOrg(e.target.value)}>
          <option value="">All orgs</option>
          {scope.orgs.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Space</span>
        <select value={scope.spaceId} onChange={(e) => scope.setSpace(e.target.value)}>
          <option value="">All spaces</option>
          {spaces.map((s) => (
            <option key={s.id} value={s.id}>
              {scope.orgId ? s.name : `${s.org_name} / ${s.name}`}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

function NotFound({ path }: { path: string }) {
  useEffect(() => {
    document.title = 'Not found · paas';
  }, []);
  return (
    <>
      <h1 tabIndex={-1}>Nothing at {path}</h1>
      <p>
        Go to the <Link to="/apps">apps</Link>.
      </p>
    </>
  );
}
