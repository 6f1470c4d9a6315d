import { ROUTER_ERROR_HEADER, type ErrorBody } from '@paas/contracts';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

/** Every reason the router itself answers a request; sent in `x-paas-router-error`. */
export const RouterErrorCode = {
  BadHost: 'bad-host',
  BadRequest: 'bad-request',
  /** The request path has no normal form (an encoded "/", a control character, an invalid escape...). */
  BadPath: 'bad-path',
  HeadersTooLarge: 'headers-too-large',
  /** A method the router does not forward (CONNECT: it is no forward proxy). */
  MethodNotAllowed: 'method-not-allowed',
  UnknownRoute: 'unknown-route',
  RouteHasNoDestination: 'route-has-no-destination',
  NoHealthyInstance: 'no-healthy-instance',
  BackendUnreachable: 'backend-unreachable',
  BackendTimeout: 'backend-timeout',
  RouteTableUnavailable: 'route-table-unavailable',
  /** The app (route target) has as many requests in flight and waiting as this router lets one app have. */
  AppOverloaded: 'app-overloaded',
  InternalError: 'internal-error',
  /** An HTTPS request for a host the connection's certificate (chosen by its SNI name) does not cover. */
  MisdirectedRequest: 'misdirected-request',
} as const;
export type RouterErrorCode = (typeof RouterErrorCode)[keyof typeof RouterErrorCode];

/** An error the router answers itself (never one of an app's). */
export interface RouterError {
  code: RouterErrorCode;
  message: string;
  /** Sent as `Retry-After` (seconds): when a retry may succeed. */
  retryAfterSeconds?: number;
}

/** The one place a router error code becomes an HTTP status. */
export function statusOf(code: RouterErrorCode): number {
  switch (code) {
    case RouterErrorCode.BadHost:
    case RouterErrorCode.BadRequest:
    case RouterErrorCode.BadPath:
      return 400;
    case RouterErrorCode.HeadersTooLarge:
      return 431;
    case RouterErrorCode.MethodNotAllowed:
      return 405;
    case RouterErrorCode.UnknownRoute:
    case RouterErrorCode.RouteHasNoDestination:
      return 404;
    case RouterErrorCode.BackendUnreachable:
      return 502;
    case RouterErrorCode.NoHealthyInstance:
    case RouterErrorCode.RouteTableUnavailable:
    case RouterErrorCode.AppOverloaded:
      return 503;
    case RouterErrorCode.BackendTimeout:
      return 504;
    case RouterErrorCode.InternalError:
      return 500;
    case RouterErrorCode.MisdirectedRequest:
      return 421;
  }
}

/** What the `Allow` header of a 405 lists: every method the router forwards to apps. */
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE';

const MAX_HOST_IN_MESSAGE = 255;
const shown = (host: string) => (host.length > MAX_HOST_IN_MESSAGE ? `${host.slice(0, MAX_HOST_IN_MESSAGE)}…` : host);
const MAX_PATH_IN_MESSAGE = 200;
/** A request path as shown in a message: no query string, bounded length. */
const shownPath = (path: string) => {
  const bare = path.split('?')[0] ?? path;
  return bare.length > MAX_PATH_IN_MESSAGE ? `${bare.slice(0, MAX_PATH_IN_MESSAGE)}…` : bare;
};
/** A route as users write it: host, or host/path. */
const routeName = (host: string, path: string) => `${shown(host)}${shownPath(path)}`;

/** Builders of each error, each message saying what went wrong and what to do about it. */
export const routerErrors = {
  misdirected: (host: string, servername: string): RouterError => ({
    code: RouterErrorCode.MisdirectedRequest,
    message: `this connection was opened for ${shown(servername)} and its certificate does not cover ${shown(host)}: open a new connection to ${shown(host)} (with that name in SNI)`,
  }),
  missingHost: (): RouterError => ({
    code: RouterErrorCode.BadHost,
    message: 'the request has no Host header: send the hostname of an app route, e.g. "Host: myapp.apps.localhost"',
  }),
  invalidHost: (raw: string): RouterError => ({
    code: RouterErrorCode.BadHost,
    message: `"${shown(raw)}" is not a valid hostname: send the hostname of an app route, e.g. "Host: myapp.apps.localhost"`,
  }),
  unknownRoute: (host: string): RouterError => ({
    code: RouterErrorCode.UnknownRoute,
    message: `no app is bound to host ${shown(host)}: push an app named ${shown(host.split('.')[0] ?? host)} or map a route to it`,
  }),
  unknownPath: (host: string, path: string): RouterError => ({
    code: RouterErrorCode.UnknownRoute,
    message: `no route of host ${shown(host)} matches path ${shownPath(path)}: map a route for that path (or for the whole host) to an app`,
  }),
  routeHasNoDestination: (host: string, path: string): RouterError => ({
    code: RouterErrorCode.RouteHasNoDestination,
    message: `route ${routeName(host, path)} is not bound to any app: map it to an app with the route-binding API`,
  }),
  noHealthyInstance: (host: string, path = ''): RouterError => ({
    code: RouterErrorCode.NoHealthyInstance,
    message: `${path ? `route ${routeName(host, path)}` : `host ${shown(host)}`} has no running instance: start or scale up the app bound to it, and check its logs if it keeps crashing`,
  }),
  backendUnreachable: (host: string, attempts: number): RouterError => ({
    code: RouterErrorCode.BackendUnreachable,
    message: `could not reach an instance of host ${shown(host)} (${attempts} attempt${attempts === 1 ? '' : 's'}): the app may have crashed or closed the connection; check its logs`,
  }),
  backendTimeout: (host: string, timeoutMs: number): RouterError => ({
    code: RouterErrorCode.BackendTimeout,
    message: `the instance of host ${shown(host)} did not answer within ${Math.round(timeoutMs / 1000)} s: make the app respond sooner or stream its response`,
  }),
  routeTableUnavailable: (host: string): RouterError => ({
    code: RouterErrorCode.RouteTableUnavailable,
    message: `the router has not loaded its route table yet, so it cannot route ${shown(host)}: retry in a few seconds; if this persists, check that the router reaches Redis`,
  }),
  appOverloaded: (host: string, reason: 'queue-full' | 'queue-timeout', limits: { maxInFlight: number; maxQueued: number; queueTimeoutMs: number }, retryAfterSeconds = 1): RouterError => ({
    code: RouterErrorCode.AppOverloaded,
    message:
      `the app of host ${shown(host)} already has ${limits.maxInFlight} requests in flight through this router and ` +
      (reason === 'queue-full' ? `${limits.maxQueued} waiting` : `this one waited ${limits.queueTimeoutMs} ms for a slot`) +
      `: retry after ${retryAfterSeconds === 1 ? 'a second' : `${retryAfterSeconds} seconds`}; if the app is this busy normally, scale it up or make it answer sooner (the router operator can raise ROUTER_APP_MAX_IN_FLIGHT)`,
    retryAfterSeconds,
  }),
  badRequest: (detail = 'the request is not valid HTTP/1.1'): RouterError => ({
    code: RouterErrorCode.BadRequest,
    message: `${detail}: check the client sending it`,
  }),
  badPath: (path: string, problem: string): RouterError => ({
    code: RouterErrorCode.BadPath,
    message: `the request path ${JSON.stringify(shownPath(path))} is ambiguous (${problem}), so the router does not guess which route it is for: send the path without it`,
  }),
  duplicateHost: (values: readonly string[]): RouterError => ({
    code: RouterErrorCode.BadHost,
    message: `the request has more than one Host (${values.map((v) => JSON.stringify(shown(v))).join(', ')}), so the router does not guess which app it is for: send exactly one Host header with one hostname`,
  }),
  badTransferEncoding: (value: string): RouterError => ({
    code: RouterErrorCode.BadRequest,
    message: `the request's Transfer-Encoding ${JSON.stringify(shown(value))} does not end in "chunked", so its body length is unknown: send the body chunked or with a Content-Length`,
  }),
  connectNotAllowed: (): RouterError => ({
    code: RouterErrorCode.MethodNotAllowed,
    message: `the router does not tunnel CONNECT requests (it is no forward proxy): send ${ALLOWED_METHODS} requests for an app route`,
  }),
  headersTooLarge: (maxBytes: number): RouterError => ({
    code: RouterErrorCode.HeadersTooLarge,
    message: `the request headers exceed ${maxBytes} bytes: send fewer or smaller headers (often too many or too large cookies)`,
  }),
  internal: (requestId: string): RouterError => ({
    code: RouterErrorCode.InternalError,
    message: `the router failed on this request (request id ${requestId}): retry, and report the request id if it happens again`,
  }),
};

/** Quality the Accept header gives `type` (e.g. "text/plain"), wildcards included; 1 without Accept. */
function quality(accept: string, type: string): number {
  const [major] = type.split('/');
  let best = -1;
  let bestSpecificity = -1;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === '*/*' ? 0 : -1;
    if (specificity < 0 || specificity < bestSpecificity) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = q ? Number(q.slice(2)) : 1;
    if (specificity > bestSpecificity || value > best) {
      best = Number.isFinite(value) ? value : 0;
      bestSpecificity = specificity;
    }
  }
  return best < 0 ? 0 : best;
}

/** True when the client prefers text/plain over JSON; JSON wins ties and a missing Accept. */
export function prefersText(headers: IncomingHttpHeaders): boolean {
  const accept = headers.accept;
  if (!accept) return false;
  return quality(accept, 'text/plain') > quality(accept, 'application/json');
}

/** Status line, headers and body of a router error, shaped for the client's Accept header. */
export function renderRouterError(error: RouterError, headers: IncomingHttpHeaders) {
  const text = prefersText(headers);
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  const payload = text ? `${error.code}: ${error.message}\n` : JSON.stringify(body);
  return {
    status: statusOf(error.code),
    headers: {
      'content-type': text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(payload)),
      'cache-control': 'no-store',
      [ROUTER_ERROR_HEADER]: error.code,
      ...(error.code === RouterErrorCode.MethodNotAllowed ? { allow: ALLOWED_METHODS } : {}),
      ...(error.retryAfterSeconds !== undefined ? { 'retry-after': String(error.retryAfterSeconds) } : {}),
    } as Record<string, string>,
    payload,
  };
}

/** Answers a request with a router error; HEAD gets the headers only. Returns the body bytes sent. */
export function sendRouterError(req: { method?: string; headers: IncomingHttpHeaders }, res: ServerResponse, error: RouterError): number {
  const { status, headers, payload } = renderRouterError(error, req.headers);
  res.writeHead(status, headers);
  const body = req.method === 'HEAD' ? '' : payload;
  res.end(body);
  return Buffer.byteLength(body);
}

/** Writes a router error as a raw HTTP/1.1 response on a socket (upgrades, client errors), then ends it. */
export function writeRawRouterError(socket: Duplex, headers: IncomingHttpHeaders, error: RouterError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, headers: out, payload } = renderRouterError(error, headers);
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, ...Object.entries(out).map(([k, v]) => `${k}: ${v}`), 'connection: close'];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${payload}`);
}
