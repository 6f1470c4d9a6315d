import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiClient, ApiError } from '@paas/api-client';
import type { MeView } from '@paas/contracts';
import { savedToken } from '../config';
import { ScopeContext, SessionContext, type Session } from '../session';
import { useScopeState } from './scope';
import { Shell } from './shell';

/** Signed out: the sign-in form. Signed in: the pages, with the session and the org/space scope. */
export function Dashboard({ apiUrl }: { apiUrl: string }) {
  const [token, setToken] = useState<string | null>(savedToken.get());
  const [me, setMe] = useState<MeView | null>(null);
  const [notice, setNotice] = useState<string | undefined>();
  const [checking, setChecking] = useState(token !== null);

  const signOut = useCallback((reason?: string) => {
    savedToken.clear();
    setToken(null);
    setMe(null);
    setNotice(reason);
  }, []);

  // A token remembered from an earlier visit: check it once.
  useEffect(() => {
    if (!token || me) return;
    let stopped = false;
    setChecking(true);
    new ApiClient(apiUrl, token).whoami().then(
      (who) => {
        if (!stopped) setMe(who);
      },
      (error: Error) => {
        if (stopped) return;
        if (error instanceof ApiError && error.status === 401) signOut('Your saved token is no longer valid: sign in again.');
        else setNotice(`Could not check your saved token: ${error.message}`);
      },
    ).finally(() => {
      if (!stopped) setChecking(false);
    });
    return () => {
      stopped = true;
    };
  }, [token]);

  const session = useMemo<Session | null>(
    () => (token && me ? { apiUrl, api: new ApiClient(apiUrl, token), me, signOut } : null),
    [apiUrl, token, me, signOut],
  );

  if (!session) {
    return (
      <SignIn
        apiUrl={apiUrl}
        checking={checking}
        notice={notice}
        initialToken={token ?? ''}
        onSignedIn={(newToken, who) => {
          savedToken.set(newToken);
          setNotice(undefined);
          setToken(newToken);
          setMe(who);
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <SignedIn />
    </SessionContext.Provider>
  );
}

function SignedIn() {
  const scope = useScopeState();
  return (
    <ScopeContext.Provider value={scope}>
      <Shell />
    </ScopeContext.Provider>
  );
}

function SignIn({
  apiUrl,
  checking,
  notice,
  initialToken,
  onSignedIn,
}: {
  apiUrl: string;
  checking: boolean;
  notice?: string;
  initialToken: string;
  onSignedIn: (token: string, me: MeView) => void;
}) {
  const [token, setToken] = useState(initialToken);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = 'Sign in · paas';
    input.current?.focus();
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Paste an API token: the admin token of `npm start`, or one made with POST /v1/users/me/tokens.');
      return;
    }
    setPending(true);
    setError(undefined);
    try {
      onSignedIn(value, await new ApiClient(apiUrl, value).whoami());
    } catch (e) {
      const err = e as Error;
      setError(err instanceof ApiError && err.status === 401 ? `The API refused this token: ${err.message}` : err.message);
    } finally {
      setPending(false);
    }
  };

  return (
    <main className="signin" id="main">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="signin-heading">
        <h1 id="signin-heading">
          <span className="brand-mark" aria-hidden="true">
            p
          </span>{' '}
          Sign in to paas
        </h1>
        <p className="muted">
          API: <code>{apiUrl}</code>
        </p>
        {notice ? (
          <p className="status status-error" role="alert">
            {notice}
          </p>
        ) : null}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          ref={input}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby="token-help"
        />
        <p id="token-help" className="hint">
          The token is kept in this browser (localStorage) until you sign out.
        </p>
        {error ? (
          <p className="status status-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={pending || checking}>
          {pending || checking ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
