import type * as http from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The scheme of a request as the router sees it. */
export type Scheme = 'http' | 'https';

/** The scheme of the router's listener a request came in on: https on the TLS listener (HTTP/1.1 and HTTP/2). */
export function listenerScheme(req: http.IncomingMessage): Scheme {
  return (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
}

/**
 * The scheme the client used: the listener's, unless the peer is a trusted load balancer (that
 * may have ended TLS itself) whose X-Forwarded-Proto says http or https. What a redirect to
 * https and HSTS go by, so a load balancer's https never loops through a redirect.
 */
export function clientScheme(req: http.IncomingMessage, trustedPeer: boolean): Scheme {
  const own = listenerScheme(req);
  if (!trustedPeer) return own;
  const proto = req.headers['x-forwarded-proto'];
  return proto === 'https' || proto === 'http' ? proto : own;
}

/** https://host[:port]/target: the same request on https; port 443 is left out. */
export function httpsRedirectUrl(host: string, originForm: string, publicPort: number): string {
  const target = originForm.startsWith('/') ? originForm : '/';
  return `https://${host}${publicPort === 443 ? '' : `:${publicPort}`}${target}`;
}

/** Answers 308 Permanent Redirect (method and body kept) to `location`; returns the body bytes sent. */
export function sendHttpsRedirect(req: http.IncomingMessage, res: http.ServerResponse, location: string): number {
  const body = req.method === 'HEAD' ? '' : `redirecting to ${location}\n`;
  res.writeHead(308, { location, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(`redirecting to ${location}\n`)) });
  res.end(body);
  return Buffer.byteLength(body);
}

/** Answers a well-known answer: 200 text/plain, not cached; returns the body bytes sent. */
export function sendWellKnownAnswer(req: http.IncomingMessage, res: http.ServerResponse, body: string): number {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
  return req.method === 'HEAD' ? 0 : Buffer.byteLength(body);
}

/** The Strict-Transport-Security value of a route: max-age only (other hosts of the domain are other tenants', so never includeSubDomains). */
export function hstsValue(maxAgeSeconds: number): string {
  return `max-age=${maxAgeSeconds}`;
}

export const HSTS_HEADER = 'strict-transport-security';
