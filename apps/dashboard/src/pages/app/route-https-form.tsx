import { useEffect, useState, type FormEvent } from 'react';
import type { RouteView } from '@paas/contracts';
import type { useAction } from '../../use-action';
import { useSession } from '../../session';

/** A route's HTTPS settings: redirect plain HTTP to https, and the HSTS max-age (empty: no HSTS). */
export function RouteHttpsForm({ route, action }: { route: RouteView; action: ReturnType<typeof useAction> }) {
  const { api } = useSession();
  const [redirect, setRedirect] = useState(route.https_redirect);
  const [hsts, setHsts] = useState(route.hsts_max_age === null ? '' : String(route.hsts_max_age));
  // A poll that brings other settings (another tab, the CLI) resets the form to them.
  useEffect(() => {
    setRedirect(route.https_redirect);
    setHsts(route.hsts_max_age === null ? '' : String(route.hsts_max_age));
  }, [route.https_redirect, route.hsts_max_age]);
  const changed = redirect !== route.https_redirect || hsts !== (route.hsts_max_age === null ? '' : String(route.hsts_max_age));

  const save = (event: FormEvent) => {
    event.preventDefault();
    const maxAge = hsts.trim() === '' ? null : Number(hsts);
    void action.run(`Saving the HTTPS settings of ${route.url}…`, async () => {
      const updated = await api.updateRoute(route.id, { https_redirect: redirect, hsts_max_age: maxAge });
      return `${updated.url}: ${updated.https_redirect ? 'HTTP redirects to HTTPS' : 'HTTP served as well'}, ${updated.hsts_max_age === null ? 'no HSTS' : `HSTS max-age ${updated.hsts_max_age} s`}`;
    });
  };

  return (
    <form className="https-form" onSubmit={save} aria-label={`HTTPS settings of ${route.url}`}>
      <label>
        <input type="checkbox" checked={redirect} onChange={(e) => setRedirect(e.target.checked)} /> Redirect HTTP to HTTPS
      </label>
      <label>
        HSTS max-age (s) <input type="number" min={0} max={63_072_000} value={hsts} onChange={(e) => setHsts(e.target.value)} placeholder="none" />
      </label>
      <button type="submit" className="small-button" disabled={action.busy || !changed}>
        Save HTTPS
      </button>
    </form>
  );
}
