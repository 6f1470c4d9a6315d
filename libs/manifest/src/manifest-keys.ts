/**
 * The keys a manifest may hold, the Cloud Foundry keys this platform does not support (and what to
 * do instead), and the "did you mean" for a misspelt one. Pure.
 */

/** The settings of a process, at the app level (web) and in each `processes` entry. */
export const PROCESS_KEYS = ['instances', 'memory', 'disk_quota', 'cpu', 'command', 'health-check-type', 'health-check-http-endpoint', 'timeout'] as const;
export const APP_KEYS = ['name', ...PROCESS_KEYS, 'routes', 'random-route', 'no-route', 'env', 'buildpacks', 'buildpack', 'processes', 'services'];
export const PROCESS_ENTRY_KEYS = ['type', ...PROCESS_KEYS];

/** Cloud Foundry keys this platform knows of but does not support, and what to do instead. */
export const UNSUPPORTED: Record<string, string> = {
  host: 'deprecated in Cloud Foundry and not supported here: list routes instead (routes: [{route: HOST.DOMAIN}])',
  hosts: 'deprecated in Cloud Foundry and not supported here: list routes instead (routes: [{route: HOST.DOMAIN}])',
  domain: 'deprecated in Cloud Foundry and not supported here: list routes instead (routes: [{route: HOST.DOMAIN}])',
  domains: 'deprecated in Cloud Foundry and not supported here: list routes instead (routes: [{route: HOST.DOMAIN}])',
  'no-hostname': 'deprecated in Cloud Foundry and not supported here: list routes instead (routes: [{route: DOMAIN}])',
  'default-route': 'not needed here: an app gets its route NAME.<apps domain> when it is created',
  stack: 'this platform has one stack; ignored',
  docker: 'Docker images are not supported: the app is built by a buildpack; ignored',
  path: 'the pushed commit is the app; ignored',
  sidecars: 'sidecars are not supported; ignored',
  metadata: 'labels and annotations are not supported; ignored',
  inherit: 'manifest inheritance is not supported; ignored',
};

export const ROUTE_ENTRY_UNSUPPORTED: Record<string, string> = {
  protocol: 'only HTTP routes are supported; ignored',
  options: 'route options are not supported; ignored',
};

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

export function unknownKeyMessage(key: string, known: readonly string[], unsupported: Record<string, string> = {}): string {
  if (unsupported[key]) return unsupported[key];
  const near = known.find((k) => editDistance(k, key.toLowerCase()) <= 2 || k === key.replace(/_/g, '-') || k === key.replace(/-/g, '_'));
  return near ? `unknown key, ignored: did you mean ${near}?` : `unknown key, ignored (known here: ${known.join(', ')})`;
}
