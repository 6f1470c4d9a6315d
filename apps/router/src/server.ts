import { normalizeHost, normalizeRequestPath } from '@paas/contracts';
import * as http from 'node:http';
import type { Socket } from 'node:net';
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
import type { Route, RouteTable } from './route-table';
import { TrustedProxies } from './trusted-proxies';

export const HEALTH_PATH = '/_router/health';

/** A normalised hostname: DNS-ish labels, at most 253 characters (IPv4 literals pass too). */
const VALID_HOST = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

type HostResult = { ok: true; host: string } | { ok: false; error: RouterError };

/**
 * What a request is routed by: `path`, the normal form of its path without the query
 * (normalizeRequestPath, the same function the controller stores route paths with), and
 * `authority`, the host an absolute-form target ("GET http://host/x") names. `originForm` is the
 * target as the client sent it, minus an absolute form's scheme and authority: what the backend
 * gets. An ambiguous path (no normal form) is the router's 400 `bad-path`.
 */
export type RoutingTarget = { ok: true; path: string; originForm: string; authority?: string } | { ok: false; error: RouterError };

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/is;

export function routingTarget(url: string | undefined): RoutingTarget {
  const target = url || '/';
  // OPTIONS * (asterisk-form) names no path: only a route for the whole host matches it.
  if (target === '*') return { ok: true, path: '*', originForm: target };
  let originForm = target;
  let authority: string | undefined;
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute) {
    authority = absolute[1]!;
    const rest = absolute[2]!;
    originForm = rest.startsWith('/') ? rest : `/${rest}`;
  }
  const query = originForm.indexOf('?');
  const rawPath = query < 0 ? originForm : originForm.slice(0, query);
  const normal = normalizeRequestPath(rawPath);
  if (!normal.ok) return { ok: false, error: routerErrors.badPath(rawPath, normal.problem) };
  return { ok: true, path: normal.path, originForm, ...(authority !== undefined ? { authority } : {}) };
}

/** The values of every Host line of a request, in order (node's `headers.host` keeps only the first). */
function hostLines(rawHeaders: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 4 && rawHeaders[i]!.toLowerCase() === 'host') values.push(rawHeaders[i + 1]!);
  }
  return values;
}

type Addressed = { ok: true; host: string; path: string } | { ok: false; error: RouterError; host?: string };

/**
 * The route host and normal path of a request (RFC 9112 §3.2). More than one Host (two lines or
 * a list) is refused. An absolute-form target ("GET http://host/x") wins over Host: its
 * authority becomes the Host the app gets, and `req.url` its origin form, which is what an
 * origin server expects. `host` is set on a refusal too when the host was valid (access log).
 */
function addressOf(req: http.IncomingMessage): Addressed {
  const hosts = hostLines(req.rawHeaders);
  if (hosts.length > 1) return { ok: false, error: routerErrors.duplicateHost(hosts) };
  if (hosts[0]?.includes(',')) return { ok: false, error: routerErrors.duplicateHost(hosts[0].split(',').map((h) => h.trim())) };
  // HTTP/1.1 requires Host, also beside an absolute-form target; HTTP/1.0 may name the host in the target alone.
  if (hosts.length === 0 && (req.httpVersionMajor > 1 || req.httpVersionMinor >= 1)) return { ok: false, error: routerErrors.missingHost() };
  const target = routingTarget(req.url);
  if (target.ok && target.authority !== undefined) {
    req.headers.host = target.authority;
    req.url = target.originForm;
  }
  const resolved = resolveHost(req.headers.host);
  if (!resolved.ok) return resolved;
  if (!target.ok) return { ok: false, error: target.error, host: resolved.host };
  return { ok: true, host: resolved.host, path: target.path };
}

/** A request whose body length node cannot know: a Transfer-Encoding that does not end in chunked (RFC 9112 §6.3). */
function badTransferEncoding(req: http.IncomingMessage): RouterError | undefined {
  const te = req.headers['transfer-encoding'];
  if (te === undefined) return undefined;
  const last = te.split(',').at(-1)?.trim().toLowerCase();
  return last === 'chunked' ? undefined : routerErrors.badTransferEncoding(te);
}

type RouteResult = { ok: true; route: Route; instances: number } | { ok: false; error: RouterError };

/** The live route of a request, or the router error that answers it. */
export function resolveRoute(table: RouteTable, host: string, path: string, tableLoaded: boolean): RouteResult {
  const found = table.lookup(host, path);
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

/** The route host of a request, from its Host header. */
export function resolveHost(raw: string | undefined): HostResult {
  if (!raw || raw.trim() === '') return { ok: false, error: routerErrors.missingHost() };
  const host = normalizeHost(raw);
  return VALID_HOST.test(host) ? { ok: true, host } : { ok: false, error: routerErrors.invalidHost(raw) };
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
  });
  const accessLog = logger.child({ module: 'access' });
  let inFlight = 0;
  let draining = false;
  const upgraded = new Set<Duplex>();

  const newContext = (req: http.IncomingMessage): RequestContext => ({
    requestId: resolveRequestId(req.headers[REQUEST_ID_HEADER]),
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
    if (draining) res.setHeader('connection', 'close');
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

    const address = addressOf(req);
    if (address.host) ctx.host = address.host;
    if (!address.ok) return fail(req, res, ctx, address.error);
    const framing = badTransferEncoding(req);
    if (framing) {
      // The body cannot be told from the next request: the connection goes with the answer.
      res.setHeader('connection', 'close');
      return fail(req, res, ctx, framing);
    }
    const route = resolveRoute(table, address.host, address.path, options.tableLoaded());
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
        // A load balancer's connection carries other apps' requests too: it is never held.
        const held = !trusted.trusts(req.socket.remoteAddress);
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

  const server = http.createServer(
    {
      // Above the 60 s idle timeout of common load balancers, so they never reuse a closed connection.
      keepAliveTimeout: 65_000,
      headersTimeout: 66_000,
      // Long uploads and downloads are the backends' business; slow headers are still cut.
      requestTimeout: 0,
      // A request without Host gets the router's own 400 bad-host (addressOf), not node's bare one.
      requireHostHeader: false,
    },
    (req, res) => {
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
    },
  );

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
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
  });

  // CONNECT asks for a tunnel (RFC 9110 §9.3.6): the router is no forward proxy, so it says so.
  server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', (err: NodeJS.ErrnoException) => logger.debug({ event: 'client-socket-error', code: err.code }, 'client socket error'));
    const ctx = newContext(req);
    const error = routerErrors.connectNotAllowed();
    ctx.routerError = error.code;
    logAccess(accessLog, req, statusOf(error.code), ctx, false);
    metrics.requestDone(undefined, statusOf(error.code), undefined, error.code);
    writeRawRouterError(socket, req.headers, error);
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
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
  });

  return {
    server,
    inFlight: () => inFlight,
    upgradedSockets: () => upgraded,
    startDraining: () => {
      draining = true;
    },
  };
}
