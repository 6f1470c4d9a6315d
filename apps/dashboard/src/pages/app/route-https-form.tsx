import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { RouteView } from '@paas/contracts';
import type { useAction } from '../../use-action';
import { useSession } from '../../session';

/** A route's HTTPS settings: redirect plain HTTP to https, and the HSTS max-age (empty: no HSTS). */
export function RouteHttpsForm({ route, action }: { route: RouteView; action: ReturnType<typeof useAction> }) {
  const { api } = useSession();
  const serverHsts = route.hsts_max_age === null ? '' : String(route.hsts_max_age);
  const [redirect, setRedirect] = useState(route.https_redirect);
  const [hsts, setHsts] = useState(serverHsts);
  // The settings the form last took from the server (or saved itself). A poll that brings others
  // (another tab, the CLI, this form's own save arriving late) moves each field to them, unless
  // the user changed that field since: an edit is never overwritten while it is being made.
  const base = useRef({ redirect: route.https_redirect, hsts: serverHsts });
  useEffect(() => {
    const seen = base.current;
    setRedirect((r) => (r === seen.redirect ? route.https_redirect : r));
    setHsts((h) => (h === seen.hsts ? serverHsts : h));
    base.current = { redirect: route.https_redirect, hsts: serverHsts };
  }, [route.https_redirect, serverHsts]);
  const changed = redirect !== route.https_redirect || hsts !== serverHsts;

  const save = (event: FormEvent) => {
    event.preventDefault();
    const maxAge = hsts.trim() === '' ? null : Number(hsts);
    void action.run(`Saving the HTTPS settings of ${route.url}…`, async () => {
      const updated = await api.updateRoute(route.id, { https_redirect: redirect, hsts_max_age: maxAge });
      base.current = { redirect: updated.https_redirect, hsts: updated.hsts_max_age === null ? '' : String(updated.hsts_max_age) };
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
