import type { IncomingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, so a proxy never forwards
 * them. Transfer-Encoding is node's (it de-chunks what it reads and chunks what it sends), so it
 * stays for node to frame the forwarded body; Upgrade is kept for a WebSocket upgrade only.
 * Proxy-Authorization and Proxy-Authenticate are a proxy's own business (as Go's ReverseProxy
 * strips them): the router is the proxy, and an app never gets credentials meant for one.
 */
const STANDARD = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate'] as const;

/**
 * Headers a `Connection` list can never remove: the ones that frame or route the message (a
 * client naming Content-Length would change how the body is read) and the ones the router sets
 * itself after this pass anyway.
 */
const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding']);

/** The lower-case field names a Connection header lists (all its lines). */
export function connectionTokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const lines = Array.isArray(value) ? value : [value];
  return lines.flatMap((line) => line.split(',')).map((token) => token.trim().toLowerCase()).filter((token) => token !== '');
}

/**
 * Deletes the hop-by-hop headers from `headers` in place: the standard set and every header its
 * Connection names. With `websocket`, the upgrade survives as exactly `Connection: Upgrade` and
 * `Upgrade: websocket`. Safe to call twice.
 */
export function stripHopByHop(headers: IncomingHttpHeaders, options: { websocket?: boolean } = {}): void {
  for (const name of connectionTokens(headers.connection)) {
    if (!PROTECTED.has(name)) delete headers[name];
  }
  for (const name of STANDARD) delete headers[name];
  if (options.websocket) {
    headers.connection = 'Upgrade';
    headers.upgrade = 'websocket';
  }
}
