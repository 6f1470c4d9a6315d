import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** An incoming request id is kept when it is a plain token of at most 128 characters. */
const VALID_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}$/;

/** The request id to use: the client's when it is a valid one, else a fresh UUID. */
export function resolveRequestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && VALID_REQUEST_ID.test(value) ? value : randomUUID();
}

export interface ForwardingContext {
  requestId: string;
  /** Epoch ms at which the router received the request. */
  receivedAt: number;
  /** Port the client connected to (the router's listening port). */
  localPort: number | undefined;
  /** The peer is a configured trusted proxy (ROUTER_TRUSTED_PROXIES): its forwarding headers are kept. */
  trustedPeer: boolean;
  /** The scheme of the listener the request came in on: https on the router's TLS listener. Default http. */
  scheme?: 'http' | 'https';
}

/**
 * Sets the standard forwarding headers on the request before it is proxied. From a trusted
 * proxy (a load balancer in front, as gorouter has): X-Forwarded-For is appended to, and its
 * Proto, Host, Port, X-Request-Start and Forwarded are kept (filled in when missing). From any
 * other peer they say only what the router saw itself: X-Forwarded-For is the peer's address,
 * Proto the listener's scheme (https on the TLS listener), Host the request's Host, Port the listener's port, and Forwarded
 * is dropped, so no client can pass for https or for another address. Safe to call twice
 * (retries): the second call changes nothing.
 */
export function applyForwardingHeaders(req: IncomingMessage, ctx: ForwardingContext): void {
  const h = req.headers;
  if (!(req as ForwardedMarker)[FORWARDED]) {
    const client = req.socket.remoteAddress ?? '';
    const prior = Array.isArray(h['x-forwarded-for']) ? h['x-forwarded-for'].join(', ') : h['x-forwarded-for'];
    h['x-forwarded-for'] = ctx.trustedPeer && prior ? `${prior}, ${client}` : client;
    if (!ctx.trustedPeer) {
      delete h['x-forwarded-proto'];
      delete h['x-forwarded-host'];
      delete h['x-forwarded-port'];
      delete h['x-request-start'];
      delete h.forwarded;
    }
    (req as ForwardedMarker)[FORWARDED] = true;
  }
  const proto = h['x-forwarded-proto'];
  if (proto !== 'http' && proto !== 'https') h['x-forwarded-proto'] = ctx.scheme ?? 'http';
  if (!h['x-forwarded-host'] && h.host) h['x-forwarded-host'] = h.host;
  if (!h['x-forwarded-port'] && ctx.localPort !== undefined) h['x-forwarded-port'] = String(ctx.localPort);
  if (!h['x-request-start'] || !/^\d+$/.test(String(h['x-request-start']))) h['x-request-start'] = String(ctx.receivedAt);
  h[REQUEST_ID_HEADER] = ctx.requestId;
  // The router answered any `Expect: 100-continue` itself; the backend gets the body straight away.
  delete h.expect;
}

const FORWARDED = Symbol('paas-router-forwarded');
type ForwardedMarker = { [FORWARDED]?: boolean };
