/**
 * Where the API is, and what the browser remembers between visits (localStorage):
 * - the API base: `?api=URL` on any dashboard address (remembered; `?api=` with no value forgets
 *   it), else the build-time `VITE_PAAS_API_URL`, else the origin the dashboard was served from
 *   (the controller serves both, so that is the default);
 * - the API token, the chosen org and space, and the cells seen live (to show lost ones).
 */
const API_KEY = 'paas.api';
const TOKEN_KEY = 'paas.token';
const SPACE_KEY = 'paas.space';
const ORG_KEY = 'paas.org';

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined; // storage disabled: nothing is remembered
  }
}

/** An absolute http(s) URL without a trailing slash, or undefined. */
export function normalizeApiUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

/** Reads `?api=` once at start-up, remembers it, and answers the API base in force. */
export function resolveApiUrl(location: Location = window.location): string {
  const store = storage();
  const param = new URLSearchParams(location.search).get('api');
  if (param !== null) {
    const url = param === '' ? undefined : normalizeApiUrl(param);
    if (url) store?.setItem(API_KEY, url);
    else store?.removeItem(API_KEY);
  }
  const remembered = store?.getItem(API_KEY);
  const built = import.meta.env.VITE_PAAS_API_URL as string | undefined;
  return (remembered && normalizeApiUrl(remembered)) || (built && normalizeApiUrl(built)) || location.origin;
}

export const savedToken = {
  get: (): string | null => storage()?.getItem(TOKEN_KEY) ?? null,
  set: (token: string) => storage()?.setItem(TOKEN_KEY, token),
  clear: () => storage()?.removeItem(TOKEN_KEY),
};

export const savedScope = {
  get: (): { orgId: string; spaceId: string } => ({ orgId: storage()?.getItem(ORG_KEY) ?? '', spaceId: storage()?.getItem(SPACE_KEY) ?? '' }),
  set: (scope: { orgId: string; spaceId: string }) => {
    storage()?.setItem(ORG_KEY, scope.orgId);
    storage()?.setItem(SPACE_KEY, scope.spaceId);
  },
};

export interface SeenCell {
  id: string;
  zone: string;
  address: string;
  lastSeen: string;
}

const CELLS_KEY = 'paas.seenCells';

/** Cells this browser saw live (per API base), to show those that stopped refreshing their presence as lost. */
export const seenCells = {
  get(apiUrl: string): Record<string, SeenCell> {
    try {
      const all = JSON.parse(storage()?.getItem(CELLS_KEY) ?? '{}') as Record<string, Record<string, SeenCell>>;
      return all[apiUrl] ?? {};
    } catch {
      return {};
    }
  },
  set(apiUrl: string, cells: Record<string, SeenCell>) {
    try {
      const all = JSON.parse(storage()?.getItem(CELLS_KEY) ?? '{}') as Record<string, Record<string, SeenCell>>;
      all[apiUrl] = cells;
      storage()?.setItem(CELLS_KEY, JSON.stringify(all));
    } catch {
      storage()?.setItem(CELLS_KEY, JSON.stringify({ [apiUrl]: cells }));
    }
  },
};
