import * as http from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { appAccessLine, logAccess } from './access-log';
import { applyForwardingHeaders, REQUEST_ID_HEADER, resolveRequestId } from './forwarding-headers';
import type { RouterMetrics } from './metrics';
import { stripHopByHop } from './hop-by-hop';
import { targetKey, type AppLimiter } from './app-limiter';
import type { BackendProxy } from './proxy';
import type { RequestContext } from './request-context';
import { routerErrors, sendRouterError, statusOf, writeRawRouterError, type RouterError } from './router-error';
import type { Route, RouteLookup, RouteTable } from './route-table';
import { TrustedProxies } from './trusted-proxies';
import { addressOf, badTransferEncoding, isHttp2 } from './request-address';
import { clientScheme, HSTS_HEADER, hstsValue, httpsRedirectUrl, listenerScheme, sendHttpsRedirect, sendWellKnownAnswer } from './https-answers';
import type { WellKnownAnswers } from './well-known-answers';

export { resolveHost, routingTarget, type RoutingTarget } from './request-address';

export const HEALTH_PATH = '/_router/health';

const HTTP1_KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HTTP1_HEADERS_TIMEOUT_MS = 66_000;

type RouteResult = { ok: true; route: Route; instances: number } | { ok: false; error: RouterError };

/** The live route of a request, or the router error that answers it. */
export function resolveRoute(table: RouteTable, host: string, path: string, tableLoaded: boolean): RouteResult {
  return routeResult(table.lookup(host, path), host, path, tableLoaded);
}

/** What a lookup means for a request: its live route, or the router error that answers it. */
function routeResult(found: RouteLookup, host: string, path: string, tableLoaded: boolean): RouteResult {
  switch (found.kind) {
    case 'unknown':
      return { ok: false, error: tableLoaded ? routerErrors.unknownRoute(host) : routerErrors.routeTableUnavailable(host) };
    case 'no-matching-path':
      return { ok: false, error: routerErrors.unknownPath(host, path) };
    case 'no-destination':
      return { ok: false, error: routerErrors.routeHasNoDestination(found.route.host, found.route.path) };
    case 'no-live-endpoint':
      return { ok: false, error: routerErrors.noHealthyInstance(found.route.host, found.route.path) };
    case 'live':
      return { ok: true, route: found.route, instances: found.instances };
  }
}

/** The Retry-After of a first refusal of a connection for overload (seconds). */
const OVERLOAD_RETRY_AFTER_S = 1;

/** A connection refused again and again is held longer each time, up to this many times the Retry-After. */
export const MAX_HOLD_OFF_FACTOR = 8;

/** How many times in a row each client connection was refused (a request admitted resets it). */
const refusalsInARow = new WeakMap<Duplex, number>();

/**
 * The Retry-After (seconds) for a refused request on `socket`: `base`, doubled for each refusal
 * of the connection in a row before it, up to MAX_HOLD_OFF_FACTOR times `base`.
 */
function retryAfterFor(socket: Duplex, base: number): number {
  const previous = refusalsInARow.get(socket) ?? 0;
  refusalsInARow.set(socket, previous + 1);
  return base * Math.min(MAX_HOLD_OFF_FACTOR, 2 ** previous);
}

/**
 * Reads nothing more from a client connection for about `ms` (a half to one and a half, so the
 * connections of one flood do not come back all at once) once `res` has been sent: the next
 * request of a client that ignores a 503's Retry-After waits in the kernel meanwhile. Else a
 * flood's refused requests come straight back, and answering them keeps the event loop busy,
 * which delays every other app's requests and new connections (accepted one per loop turn).
 */
function holdOff(socket: Duplex, res: http.ServerResponse, ms: number): void {
  const held = ms * (0.5 + Math.random());
  // After node's own bookkeeping for the finished response, which resumes the socket.
  res.once('finish', () =>
    setImmediate(() => {
      if (socket.destroyed) return;
      socket.pause();
      setTimeout(() => socket.resume(), held).unref();
    }),
  );
}

export interface RouterServerOptions {
  table: RouteTable;
  proxy: BackendProxy;
  logger: Logger;
  metrics: RouterMetrics;
  /** False until the route table has been loaded once: unknown hosts then get 503, not 404. */
  tableLoaded: () => boolean;
  /** Receives the RTR line of every request that reached an app (for the app's log). */
  appAccess?: (appId: string, text: string) => void;
  /** Peers whose forwarding headers are kept; by default none (every client's are replaced). */
  trustedProxies?: TrustedProxies;
  /** The per-app bound on requests in flight (WebSocket upgrades are exempt); none when absent. */
  limiter?: AppLimiter;
  /** ACME and domain-verification answers, given before any route lookup; none when absent. */
  wellKnown?: WellKnownAnswers;
  /** HTTPS: whether a request for `host` may be served on a connection opened for the SNI name (else 421); none: no check. */
  connectionCovers?: (servername: string, host: string) => boolean;
  /** The port of https redirect URLs (RouteEntry.httpsRedirect); read per redirect, as the TLS port may be bound late. Default 443. */
  httpsPublicPort?: () => number;
}

/** The HTTP server with its request bookkeeping, for a graceful drain. */
export interface RouterServer {
  server: http.Server;
  /** Requests being answered right now. */
  inFlight(): number;
  /** Upgraded (WebSocket) client sockets still open. */
  upgradedSockets(): ReadonlySet<Duplex>;
  /** From now on every response says `connection: close`. */
  startDraining(): void;
  /**
   * Serves the TLS listener's requests like the plain ones: HTTP/1.1 over TLS (requests,
   * WebSocket upgrades, malformed requests) and HTTP/2 streams (node's compat request and
   * response, through the same path; the backend always gets HTTP/1.1). Call once.
   */
  serveTls(tls: Http2SecureServer): void;
}

/**
 * The router's node:http server: health, Host checks, route lookup (host, then path), then the proxy. Every error
 * path is handled: a malformed request gets a 400, a client reset just closes its socket.
 */
export function createRouterServer(options: RouterServerOptions): RouterServer {
  const { table, proxy, logger, metrics } = options;
  const trusted = options.trustedProxies ?? new TrustedProxies();
  const forwarding = (req: http.IncomingMessage, ctx: RequestContext) => ({
    requestId: ctx.requestId,
    receivedAt: ctx.receivedAt,
    localPort: req.socket.localPort,
    trustedPeer: trusted.trusts(req.socket.remoteAddress),
    scheme: ctx.scheme,
  });
  const accessLog = logger.child({ module: 'access' });
  let inFlight = 0;
  let draining = false;
  const upgraded = new Set<Duplex>();

  const newContext = (req: http.IncomingMessage): RequestContext => ({
    requestId: resolveRequestId(req.headers[REQUEST_ID_HEADER]),
    scheme: listenerScheme(req),
    receivedAt: Date.now(),
    startedAt: performance.now(),
    attempts: 0,
    bytes: 0,
  });

  const fail = (req: http.IncomingMessage, res: http.ServerResponse, ctx: RequestContext, error: RouterError) => {
    ctx.routerError = error.code;
    ctx.bytes += sendRouterError(req, res, error);
  };

  const handleRequest = (req: http.IncomingMessage, res: http.ServerResponse, ctx: RequestContext) => {
    const h2 = isHttp2(req);
    // HTTP/2 has no Connection header: a draining session ends with GOAWAY (router.ts).
    if (draining && !h2) res.setHeader('connection', 'close');
    res.setHeader(REQUEST_ID_HEADER, ctx.requestId);

    const path = (req.url ?? '').split('?')[0];
    if (path === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      const loaded = options.tableLoaded();
      const body = JSON.stringify({ status: loaded ? 'ok' : 'starting', routes: table.size });
      res.writeHead(loaded ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      ctx.bytes = req.method === 'HEAD' ? 0 : Buffer.byteLength(body);
      return;
    }

    // HTTP/1.1's CONNECT is the server's 'connect' event; HTTP/2's comes here from onConnect.
    if (h2 && req.method === 'CONNECT') return fail(req, res, ctx, routerErrors.connectNotAllowed());
    const address = addressOf(req);
    if (address.host) ctx.host = address.host;
    if (!address.ok) return fail(req, res, ctx, address.error);
    const framing = h2 ? undefined : badTransferEncoding(req);
    if (framing) {
      // The body cannot be told from the next request: the connection goes with the answer.
      res.setHeader('connection', 'close');
      return fail(req, res, ctx, framing);
    }
    const servername = (req.socket as Partial<TLSSocket>).servername;
    if (typeof servername === 'string' && options.connectionCovers && !options.connectionCovers(servername, address.host)) {
      return fail(req, res, ctx, routerErrors.misdirected(address.host, servername));
    }
    if (options.wellKnown && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = options.wellKnown.answer(address.host, address.path);
      if (body !== undefined) {
        ctx.bytes = sendWellKnownAnswer(req, res, body);
        return;
      }
    }
    const found = table.lookup(address.host, address.path);
    const routeFound = found.kind === 'unknown' || found.kind === 'no-matching-path' ? undefined : found.route;
    if (routeFound && (routeFound.httpsRedirect || routeFound.hstsMaxAge !== undefined)) {
      const scheme = clientScheme(req, trusted.trusts(req.socket.remoteAddress));
      if (routeFound.httpsRedirect && scheme === 'http') {
        ctx.bytes = sendHttpsRedirect(req, res, httpsRedirectUrl(address.host, req.url ?? '/', options.httpsPublicPort?.() ?? 443));
        return;
      }
      // The route's setting replaces an HSTS header of the app's (proxy.ts keeps this one).
      if (routeFound.hstsMaxAge !== undefined && scheme === 'https') res.setHeader(HSTS_HEADER, hstsValue(routeFound.hstsMaxAge));
    }
    const route = routeResult(found, address.host, address.path, options.tableLoaded());
    if (!route.ok) return fail(req, res, ctx, route.error);

    stripHopByHop(req.headers);
    applyForwardingHeaders(req, forwarding(req, ctx));
    admit(req, res, ctx, route.route, route.instances);
  };

  /** Proxies the request once its route target has a free slot, or answers 503 app-overloaded. */
  const admit = (req: http.IncomingMessage, res: http.ServerResponse, ctx: RequestContext, route: Route, instances: number) => {
    const { limiter } = options;
    if (!limiter?.enabled) return proxy.web(req, res, route, ctx);
    const key = targetKey(route.destinations);
    const ticket = limiter.acquire(
      key,
      () => {
        if (res.destroyed) return; // its 'close' releases the slot
        refusalsInARow.delete(req.socket);
        try {
          proxy.web(req, res, route, ctx);
        } catch (err) {
          logger.error({ event: 'router-internal-error', err, requestId: ctx.requestId }, 'router failed on a request');
          if (!res.headersSent) fail(req, res, ctx, routerErrors.internal(ctx.requestId));
          else res.destroy();
        }
      },
      (reason) => {
        if (res.destroyed || res.headersSent) return;
        if (route.destinations.length === 1) ctx.appId = route.destinations[0]!.appId;
        // A load balancer's connection carries other apps' requests too: it is never held; nor
        // is an HTTP/2 connection (its streams are multiplexed; node forbids pausing its socket).
        const held = !trusted.trusts(req.socket.remoteAddress) && !isHttp2(req);
        const bound = { ...limiter.limits, maxInFlight: limiter.limit(key, instances) };
        const error = routerErrors.appOverloaded(route.host, reason, bound, held ? retryAfterFor(req.socket, OVERLOAD_RETRY_AFTER_S) : OVERLOAD_RETRY_AFTER_S);
        if (held) holdOff(req.socket, res, (error.retryAfterSeconds ?? OVERLOAD_RETRY_AFTER_S) * 1_000);
        fail(req, res, ctx, error);
      },
      instances,
    );
    // Also when the client leaves while its request waits or runs: the slot is never leaked.
    res.once('close', () => ticket.release());
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
      inFlight += 1;
      const ctx = newContext(req);
      res.once('close', () => {
        inFlight -= 1;
        const aborted = !res.writableFinished;
        logAccess(accessLog, req, res.statusCode, ctx, aborted);
        const line = options.appAccess && appAccessLine(req, res.statusCode, ctx, aborted);
        if (line) options.appAccess!(line.appId, line.text);
        metrics.requestDone(ctx.appId, aborted && !res.headersSent ? 0 : res.statusCode, (performance.now() - ctx.startedAt) / 1000, ctx.routerError);
      });
      try {
        handleRequest(req, res, ctx);
      } catch (err) {
        logger.error({ event: 'router-internal-error', err, requestId: ctx.requestId }, 'router failed on a request');
        if (!res.headersSent) fail(req, res, ctx, routerErrors.internal(ctx.requestId));
        else res.destroy();
      }
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const ctx = newContext(req);
    socket.on('error', (err: NodeJS.ErrnoException) => logger.debug({ event: 'client-socket-error', code: err.code }, 'client socket error'));
    upgraded.add(socket);
    socket.once('close', () => {
      upgraded.delete(socket);
      const status = ctx.upgradeStatus ?? (ctx.routerError ? statusOf(ctx.routerError) : 0);
      logAccess(accessLog, req, status, ctx, false);
      const line = options.appAccess && appAccessLine(req, status, ctx, false);
      if (line) options.appAccess!(line.appId, line.text);
      metrics.requestDone(ctx.appId, status, undefined, ctx.routerError);
    });
    try {
      const rawError = (error: RouterError) => {
        ctx.routerError = error.code;
        writeRawRouterError(socket, req.headers, error);
      };
      if (draining) return rawError(routerErrors.badRequest('the router is shutting down'));
      if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || req.method !== 'GET') {
        return rawError(routerErrors.badRequest('only WebSocket upgrades (GET with "Upgrade: websocket") are supported'));
      }
      const address = addressOf(req);
      if (address.host) ctx.host = address.host;
      if (!address.ok) return rawError(address.error);
      const route = resolveRoute(table, address.host, address.path, options.tableLoaded());
      if (!route.ok) return rawError(route.error);
      stripHopByHop(req.headers, { websocket: true });
      applyForwardingHeaders(req, forwarding(req, ctx));
      proxy.ws(req, socket, head, route.route, ctx);
    } catch (err) {
      logger.error({ event: 'router-internal-error', err, requestId: ctx.requestId }, 'router failed on an upgrade');
      socket.destroy();
    }
  };

  // CONNECT asks for a tunnel (RFC 9110 §9.3.6): the router is no forward proxy, so it says so.
  const onConnect = (req: http.IncomingMessage, socket: Duplex) => {
    // HTTP/2's CONNECT comes with a response, not a socket: answered like any request (405).
    if (isHttp2(req)) return onRequest(req, socket as unknown as http.ServerResponse);
    socket.on('error', (err: NodeJS.ErrnoException) => logger.debug({ event: 'client-socket-error', code: err.code }, 'client socket error'));
    const ctx = newContext(req);
    const error = routerErrors.connectNotAllowed();
    ctx.routerError = error.code;
    logAccess(accessLog, req, statusOf(error.code), ctx, false);
    metrics.requestDone(undefined, statusOf(error.code), undefined, error.code);
    writeRawRouterError(socket, req.headers, error);
  };

  const onClientError = (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset or timed-out client gets nothing; a malformed request gets a 400 it can read.
    if (err.code === 'ECONNRESET' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) {
      socket.destroy();
      return;
    }
    logger.debug({ event: 'client-error', code: err.code }, 'malformed request');
    const error = err.code === 'HPE_HEADER_OVERFLOW' ? routerErrors.headersTooLarge(http.maxHeaderSize) : routerErrors.badRequest();
    metrics.requestDone(undefined, statusOf(error.code), undefined, error.code);
    accessLog.info({ event: 'access', status: statusOf(error.code), routerError: error.code, remote: (socket as Partial<Socket>).remoteAddress }, 'access');
    writeRawRouterError(socket, {}, error);
  };

  const server = http.createServer(
    {
      // Above the 60 s idle timeout of common load balancers, so they never reuse a closed connection.
      keepAliveTimeout: HTTP1_KEEP_ALIVE_TIMEOUT_MS,
      headersTimeout: HTTP1_HEADERS_TIMEOUT_MS,
      // Long uploads and downloads are the backends' business; slow headers are still cut.
      requestTimeout: 0,
      // A request without Host gets the router's own 400 bad-host (addressOf), not node's bare one.
      requireHostHeader: false,
    },
    onRequest,
  );
  server.on('upgrade', onUpgrade);
  server.on('connect', onConnect);
  server.on('clientError', onClientError);

  return {
    server,
    serveTls: (tls) => {
      // node serves the HTTP/1.1 connections of an HTTP/2 server with http.Server's own code,
      // reading these settings from it (set before the first connection).
      Object.assign(tls, { keepAliveTimeout: HTTP1_KEEP_ALIVE_TIMEOUT_MS, headersTimeout: HTTP1_HEADERS_TIMEOUT_MS, requestTimeout: 0, requireHostHeader: false });
      tls.on('request', onRequest as never);
      tls.on('upgrade', onUpgrade);
      tls.on('connect', onConnect);
      tls.on('clientError', onClientError);
    },
    inFlight: () => inFlight,
    upgradedSockets: () => upgraded,
    startDraining: () => {
      draining = true;
    },
  };
}
