import { normalizeHost, normalizeRequestPath } from '@paas/contracts';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { appAccessLine, logAccess } from './access-log';
import { applyForwardingHeaders, REQUEST_ID_HEADER, resolveRequestId } from './forwarding-headers';
import type { RouterMetrics } from './metrics';
import type { BackendProxy } from './proxy';
import type { RequestContext } from './request-context';
import { routerErrors, sendRouterError, statusOf, writeRawRouterError, type RouterError } from './router-error';
import type { Route, RouteTable } from './route-table';

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

/**
 * The routing target of a request whose Host is `host`, refusing an absolute-form target that
 * names another host (which of the two would the app believe?). Rewrites an absolute-form
 * `req.url` to its origin form, which is what an origin server expects.
 */
function routeTargetOf(req: http.IncomingMessage, host: string): { ok: true; path: string } | { ok: false; error: RouterError } {
  const target = routingTarget(req.url);
  if (!target.ok) return target;
  if (target.authority !== undefined) {
    if (normalizeHost(target.authority) !== host) return { ok: false, error: routerErrors.hostMismatch(target.authority, host) };
    req.url = target.originForm;
  }
  return { ok: true, path: target.path };
}

type RouteResult = { ok: true; route: Route } | { ok: false; error: RouterError };

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
      return { ok: true, route: found.route };
  }
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

    const resolved = resolveHost(req.headers.host);
    if (!resolved.ok) return fail(req, res, ctx, resolved.error);
    const host = resolved.host;
    ctx.host = host;

    const target = routeTargetOf(req, host);
    if (!target.ok) return fail(req, res, ctx, target.error);
    const route = resolveRoute(table, host, target.path, options.tableLoaded());
    if (!route.ok) return fail(req, res, ctx, route.error);

    applyForwardingHeaders(req, { requestId: ctx.requestId, receivedAt: ctx.receivedAt, localPort: req.socket.localPort });
    proxy.web(req, res, route.route, ctx);
  };

  const server = http.createServer(
    {
      // Above the 60 s idle timeout of common load balancers, so they never reuse a closed connection.
      keepAliveTimeout: 65_000,
      headersTimeout: 66_000,
      // Long uploads and downloads are the backends' business; slow headers are still cut.
      requestTimeout: 0,
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
      const resolved = resolveHost(req.headers.host);
      if (!resolved.ok) return rawError(resolved.error);
      ctx.host = resolved.host;
      const target = routeTargetOf(req, resolved.host);
      if (!target.ok) return rawError(target.error);
      const route = resolveRoute(table, resolved.host, target.path, options.tableLoaded());
      if (!route.ok) return rawError(route.error);
      applyForwardingHeaders(req, { requestId: ctx.requestId, receivedAt: ctx.receivedAt, localPort: req.socket.localPort });
      proxy.ws(req, socket, head, route.route, ctx);
    } catch (err) {
      logger.error({ event: 'router-internal-error', err, requestId: ctx.requestId }, 'router failed on an upgrade');
      socket.destroy();
    }
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
