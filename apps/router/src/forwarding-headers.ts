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
}

/**
 * Sets the standard forwarding headers on the request before it is proxied. X-Forwarded-For is
 * appended to; Proto, Host, Port and X-Request-Start are kept when a load balancer in front
 * already set them (as gorouter does), else filled in. Safe to call twice (retries): the second
 * call changes nothing.
 */
export function applyForwardingHeaders(req: IncomingMessage, ctx: ForwardingContext): void {
  const h = req.headers;
  if (!(req as ForwardedMarker)[FORWARDED]) {
    const client = req.socket.remoteAddress ?? '';
    const prior = Array.isArray(h['x-forwarded-for']) ? h['x-forwarded-for'].join(', ') : h['x-forwarded-for'];
    h['x-forwarded-for'] = prior ? `${prior}, ${client}` : client;
    (req as ForwardedMarker)[FORWARDED] = true;
  }
  const proto = h['x-forwarded-proto'];
  if (proto !== 'http' && proto !== 'https') h['x-forwarded-proto'] = 'http';
  if (!h['x-forwarded-host'] && h.host) h['x-forwarded-host'] = h.host;
  if (!h['x-forwarded-port'] && ctx.localPort !== undefined) h['x-forwarded-port'] = String(ctx.localPort);
  if (!h['x-request-start'] || !/^\d+$/.test(String(h['x-request-start']))) h['x-request-start'] = String(ctx.receivedAt);
  h[REQUEST_ID_HEADER] = ctx.requestId;
  // The router answered any `Expect: 100-continue` itself; the backend gets the body straight away.
  delete h.expect;
}

const FORWARDED = Symbol('paas-router-forwarded');
type ForwardedMarker = { [FORWARDED]?: boolean };
