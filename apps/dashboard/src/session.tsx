import { createContext, useContext } from 'react';
import type { ApiClient } from '@paas/api-client';
import type { MeView, OrgView, SpaceView } from '@paas/contracts';

/** Who is signed in, against which API, and the clients to call it with. */
export interface Session {
  apiUrl: string;
  api: ApiClient;
  me: MeView;
  signOut: (reason?: string) => void;
}

/** The org and space the pages show (empty ids: all that the token sees). */
export interface Scope {
  orgs: OrgView[];
  spaces: SpaceView[];
  orgId: string;
  spaceId: string;
  /** The space filter for list calls: the chosen space, the spaces of the chosen org, or undefined for all. */
  spaceIds?: string[];
  setOrg: (id: string) => void;
  setSpace: (id: string) => void;
}

export const SessionContext = createContext<Session | null>(null);
export const ScopeContext = createContext<Scope | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in dashboard');
  return session;
}

export function useScope(): Scope {
  const scope = useContext(ScopeContext);
  if (!scope) throw new Error('useScope outside a signed-in dashboard');
  return scope;
}

/** A stable cache key for a space filter. */
export function scopeKey(scope: Scope): string {
  return scope.spaceIds ? scope.spaceIds.join(',') : 'all';
}
