import { createProxyServer } from 'http-proxy-3';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Endpoint } from '@paas/contracts';
import type { EndpointLoad } from './endpoint-load';
import { stripHopByHop } from './hop-by-hop';
import { REQUEST_ID_HEADER } from './forwarding-headers';
import type { RouterMetrics } from './metrics';
import type { RequestContext } from './request-context';
import { routerErrors, sendRouterError, writeRawRouterError, type RouterError } from './router-error';
import type { Route, RouteTable } from './route-table';
import { stickyCookieFor, stickyInstanceOf } from './sticky-session';
import { isHttp2 } from './request-address';
import { HSTS_HEADER } from './https-answers';

export interface BackendProxyOptions {
  table: RouteTable;
  logger: Logger;
  /** In-flight count per instance: raised while a request or WebSocket is on it (least-connections reads it). */
  load: EndpointLoad;
  metrics: RouterMetrics;
  /** A backend that has not accepted the TCP connection by then counts as unreachable. */
  connectTimeoutMs: number;
  /** A backend silent for this long gets the request a 504. */
  backendTimeoutMs: number;
  /** Backends tried per request, the first one included. */
  maxAttempts?: number;
  /** Pooled connections per backend ("ip:port"). */
  maxSocketsPerBackend?: number;
}

/** Methods safe to send twice when a pooled connection turns out to be dead. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** One try of one request against one backend. */
interface Attempt {
  /** The TCP connection to the backend exists: from now on request bytes may have left. */
  connected: boolean;
  /** The connection came from the keep-alive pool (a stale one fails with ECONNRESET). */
  reusedSocket: boolean;
  bodyBytes: number;
  timedOut: boolean;
  settled: boolean;
  /** What http-proxy reads the request body from; fed from the request only once connected. Absent for a bodiless request. */
  gate?: PassThrough;
  startBody(): void;
}

/**
 * What http-proxy "pipes" the body of a request without one from: it just ends the backend request
 * (headers only), as the gate would on a bodiless request, without a PassThrough and a pipe per attempt.
 * One per attempt: it is also the key of the attempt.
 */
class NoBody {
  pipe<T extends NodeJS.WritableStream>(dest: T): T {
    dest.end();
    return dest;
  }
}

/** A request without a body: no Transfer-Encoding and no (or a zero) Content-Length (RFC 9112 §6.3); HTTP/2: see below. */
function hasNoBody(req: http.IncomingMessage): boolean {
  const { headers } = req;
  // HTTP/2 frames a body by DATA frames, with or without a Content-Length: none when the
  // HEADERS frame ended the stream.
  if (isHttp2(req)) return (req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders || headers['content-length'] === '0';
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  return length === undefined || length === '0';
}

/** Ends a socket (its pending writes flushed), then destroys it: a peer ignoring the FIN cannot keep it. */
function endThenDestroy(socket: Duplex): void {
  if (socket.destroyed) return;
  socket.once('finish', () => socket.destroy());
  socket.end();
  setTimeout(() => socket.destroy(), 5_000).unref();
}

const connectTimeoutError = () => Object.assign(new Error('connect timeout'), { code: 'ECONNTIMEOUT' });

/**
 * Forwards requests and WebSocket upgrades to the live endpoints of a route, on http-proxy-3.
 *
 * Retries: a request goes to another endpoint (up to `maxAttempts` in all, possibly of another of
 * the route's destinations) only when no byte of it can have reached the backend: the TCP connect
 * failed or timed out, or a pooled keep-alive connection was found dead before any body byte was
 * sent on it (idempotent methods only). The
 * request body is not read from the client until the backend connection is up, so a failed
 * connect leaves it intact for the next try. WebSocket upgrades get one try.
 */
export class BackendProxy {
  // toProxy: the request target goes to the backend as the client sent it. Without it http-proxy-3
  // re-parses it with WHATWG URL, which resolves ".." and "%2e" segments and so forwards another
  // path than the one the route was chosen by.
  private readonly proxy = createProxyServer({ xfwd: false, changeOrigin: false, ws: true, toProxy: true });
  /** Keep-alive pool; its idle timeout stays below the ~5 s idle timeout of typical app servers. */
  private readonly agent: http.Agent;
  private readonly attempts = new WeakMap<object, Attempt>();
  private readonly contexts = new WeakMap<http.IncomingMessage, RequestContext>();
  private readonly log: Logger;
  private readonly maxAttempts: number;

  constructor(private readonly options: BackendProxyOptions) {
    this.log = options.logger.child({ module: 'proxy' });
    this.maxAttempts = options.maxAttempts ?? 3;
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets: options.maxSocketsPerBackend ?? 256,
      maxFreeSockets: 32,
      timeout: 4_000,
      scheduling: 'lifo',
    });
    this.proxy.on('proxyReq', (proxyReq, req, _res, opts, socket) => {
      const ctx = this.contexts.get(req);
      if (ctx) ctx.backendSentAt = performance.now();
      this.onProxyReq(proxyReq, opts, socket);
    });
    this.proxy.on('proxyRes', (proxyRes, req, res) => {
      // The backend's hop-by-hop headers describe its connection to the router, not the client's:
      // gone, and Connection says what the router does with the client's connection (close when
      // the client asked for it or the router is draining, whatever the backend does with its own).
      stripHopByHop(proxyRes.headers);
      if (isHttp2(req)) {
        // HTTP/2 forbids connection-specific headers (RFC 9113 §8.2.2): none goes to the client.
        delete proxyRes.headers['transfer-encoding'];
      } else {
        const connection = res.shouldKeepAlive && res.getHeader('connection') !== 'close' ? 'keep-alive' : 'close';
        proxyRes.headers.connection = connection;
        // http-proxy answers an HTTP/1.0 client with the request's Connection, stripped before it
        // was sent to the backend: it gets the router's decision instead (keep-alive when asked).
        req.headers.connection = connection;
      }
      // A route's HSTS setting (server.ts) replaces the app's own header.
      const hsts = res.getHeader(HSTS_HEADER);
      if (hsts !== undefined) proxyRes.headers[HSTS_HEADER] = String(hsts);
      // A backend that dies mid-response: cut the client's connection too, so it sees the
      // truncation instead of waiting for the rest forever.
      proxyRes.on('error', () => undefined);
      proxyRes.on('close', () => {
        if (proxyRes.complete || res.destroyed) return;
        this.log.warn({ event: 'backend-failed-mid-response', backend: `${proxyRes.socket?.remoteAddress}:${proxyRes.socket?.remotePort}`, requestId: ctx?.requestId }, 'backend closed the connection mid-response');
        this.options.metrics.backendError('mid-response');
        res.destroy();
      });
      const ctx = this.contexts.get(req);
      if (!ctx) return;
      proxyRes.headers[REQUEST_ID_HEADER] = ctx.requestId;
      if (ctx.backendSentAt !== undefined) ctx.backendMs = Math.round((performance.now() - ctx.backendSentAt) * 10) / 10;
      if (ctx.instanceId) {
        const sticky = stickyCookieFor(proxyRes.headers['set-cookie'], ctx.stickyInstance, ctx.instanceId);
        if (sticky) proxyRes.headers['set-cookie'] = [...(proxyRes.headers['set-cookie'] ?? []), sticky];
      }
      proxyRes.on('data', (chunk: Buffer) => (ctx.bytes += chunk.length));
    });
    this.proxy.on('proxyReqWs', (proxyReq, req, clientSocket) => {
      const ctx = this.contexts.get(req);
      // http-proxy only half-closes (end) the other side when one side goes; a peer that never
      // answers the FIN would keep both sockets (and their fds) forever. The client gone: the
      // backend connection is destroyed; the backend gone: the client's is ended, then destroyed.
      let backendSocket: Socket | undefined;
      clientSocket.once('close', () => {
        proxyReq.destroy();
        backendSocket?.destroy();
      });
      proxyReq.on('upgrade', (_res: http.IncomingMessage, socket: Socket) => {
        backendSocket = socket;
        if (clientSocket.destroyed) socket.destroy();
        socket.once('close', () => endThenDestroy(clientSocket));
      });
      proxyReq.on('socket', (socket: Socket) => this.armConnectTimeout(proxyReq, socket, () => undefined));
      proxyReq.on('upgrade', () => ctx && (ctx.upgradeStatus = 101));
      proxyReq.on('response', (r: http.IncomingMessage) => ctx && (ctx.upgradeStatus = r.statusCode));
    });
    // Every failure goes to the per-call callbacks; this is only the safety net.
    this.proxy.on('error', (err) => this.log.warn({ event: 'proxy-error', err: err.message }, 'unhandled proxy error'));
    this.proxy.on('econnreset', () => undefined);
  }

  /** Proxies an HTTP request to a live endpoint of `route` (the caller checked there is one). */
  web(req: http.IncomingMessage, res: http.ServerResponse, route: Route, ctx: RequestContext): void {
    const { host } = route;
    this.contexts.set(req, ctx);
    const tried = new Set<string>();
    const bodiless = hasNoBody(req);
    const fail = (error: RouterError) => {
      ctx.routerError = error.code;
      ctx.bytes += sendRouterError(req, res, error);
    };
    ctx.stickyInstance = stickyInstanceOf(req.headers.cookie);
    let release = () => undefined as void;
    res.once('close', () => release());

    const tryNext = (): void => {
      const endpoint = this.choose(route, tried, ctx);
      if (!endpoint) return fail(routerErrors.backendUnreachable(host, ctx.attempts));
      tried.add(endpoint.instanceId);
      release();
      release = this.options.load.acquire(endpoint.instanceId);

      let buffer: PassThrough | NoBody;
      let attempt: Attempt;
      if (bodiless) {
        // Fast path: nothing to hold back until the connection is up, so no gate.
        buffer = new NoBody();
        attempt = {
          connected: false,
          reusedSocket: false,
          bodyBytes: 0,
          timedOut: false,
          settled: false,
          startBody: () => {
            attempt.connected = true;
          },
        };
      } else {
        const gate = new PassThrough();
        buffer = gate;
        attempt = {
          connected: false,
          reusedSocket: false,
          bodyBytes: 0,
          timedOut: false,
          settled: false,
          gate,
          startBody: () => {
            if (attempt.connected) return;
            attempt.connected = true;
            gate.on('data', (chunk: Buffer) => (attempt.bodyBytes += chunk.length));
            if (req.readableEnded) gate.end();
            else req.pipe(gate);
          },
        };
      }
      this.attempts.set(buffer, attempt);

      this.proxy.web(req, res, { target: `http://${endpoint.address}`, buffer: buffer as PassThrough, agent: this.agent }, (err) => {
        if (attempt.settled) return;
        attempt.settled = true;
        if (attempt.gate) req.unpipe(attempt.gate);
        const code = (err as NodeJS.ErrnoException).code;
        if (res.destroyed || req.socket.destroyed) return; // the client left; nothing to answer
        if (res.headersSent) {
          // The backend failed mid-response: all the router can do is cut the connection.
          this.options.metrics.backendError('mid-response');
          this.log.warn({ event: 'backend-failed-mid-response', host, backend: endpoint.address, code, requestId: ctx.requestId }, 'backend failed mid-response');
          res.destroy();
          return;
        }
        // A pooled connection found dead resets at once; one the router cut after the backend
        // timeout was alive and had the request (it is an ECONNRESET too, and no retry).
        const retriable =
          !attempt.connected ||
          (attempt.reusedSocket && !attempt.timedOut && code === 'ECONNRESET' && attempt.bodyBytes === 0 && req.complete && IDEMPOTENT.has(req.method ?? ''));
        this.log.debug(
          { event: 'backend-attempt-failed', host, backend: endpoint.address, code, attempt: ctx.attempts, retriable, requestId: ctx.requestId },
          'backend attempt failed',
        );
        this.options.metrics.backendError(attempt.timedOut ? 'timeout' : code);
        if (!attempt.connected) this.options.table.markFailed(endpoint.instanceId);
        if (retriable && ctx.attempts < this.maxAttempts) {
          this.options.metrics.retry();
          return tryNext();
        }
        if (attempt.timedOut) return fail(routerErrors.backendTimeout(host, this.options.backendTimeoutMs));
        fail(routerErrors.backendUnreachable(host, ctx.attempts));
      });
    };
    tryNext();
  }

  /** Proxies a WebSocket upgrade to a live endpoint of `route`; one try, 502 on the raw socket if it fails. */
  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer, route: Route, ctx: RequestContext): void {
    const { host } = route;
    ctx.stickyInstance = stickyInstanceOf(req.headers.cookie);
    const endpoint = this.choose(route, new Set(), ctx);
    if (!endpoint) {
      ctx.routerError = routerErrors.backendUnreachable(host, 0).code;
      writeRawRouterError(socket, req.headers, routerErrors.backendUnreachable(host, 0));
      return;
    }
    this.contexts.set(req, ctx);
    socket.once('close', this.options.load.acquire(endpoint.instanceId));
    // No pooling for upgrades: the connection belongs to the WebSocket for its whole life.
    this.proxy.ws(req, socket, head, { target: `http://${endpoint.address}`, agent: false }, (err) => {
      this.log.debug({ event: 'websocket-backend-failed', host, backend: endpoint.address, err: err.message, requestId: ctx.requestId }, 'websocket backend failed');
      this.options.metrics.backendError((err as NodeJS.ErrnoException).code);
      if (ctx.upgradeStatus === undefined && !ctx.routerError) {
        const error = routerErrors.backendUnreachable(host, 1);
        ctx.routerError = error.code;
        writeRawRouterError(socket, req.headers, error);
      }
    });
  }

  /**
   * The endpoint for the next attempt: the sticky-session instance while it is a live endpoint of
   * the route, else the balancer's pick; recorded in `ctx` (attempts, backend, app, instance).
   */
  private choose(route: Route, tried: ReadonlySet<string>, ctx: RequestContext): Endpoint | undefined {
    const sticky = ctx.stickyInstance === undefined ? undefined : this.options.table.liveEndpoint(route, ctx.stickyInstance, tried);
    const endpoint = sticky ?? this.options.table.pick(route, tried);
    if (!endpoint) return undefined;
    ctx.routedAt ??= performance.now();
    ctx.attempts += 1;
    ctx.backend = endpoint.address;
    ctx.appId = endpoint.appId;
    ctx.processType = endpoint.processType;
    ctx.instanceIndex = endpoint.index;
    ctx.instanceId = endpoint.instanceId;
    return endpoint;
  }

  /** Closes the pooled backend connections. */
  close(): void {
    this.agent.destroy();
  }

  private onProxyReq(proxyReq: http.ClientRequest, opts: { buffer?: unknown }, socket: Socket): void {
    const attempt = opts.buffer ? this.attempts.get(opts.buffer) : undefined;
    if (!attempt) return;
    proxyReq.setTimeout(this.options.backendTimeoutMs, () => {
      attempt.timedOut = true;
      proxyReq.destroy();
    });
    if (!socket.connecting) {
      attempt.reusedSocket = true;
      attempt.startBody();
      return;
    }
    this.armConnectTimeout(proxyReq, socket, () => attempt.startBody());
  }

  /** Fails the request with ECONNTIMEOUT unless its socket connects in time; calls `onConnect` once it has. */
  private armConnectTimeout(proxyReq: http.ClientRequest, socket: Socket, onConnect: () => void): void {
    if (!socket.connecting) return onConnect();
    const timer = setTimeout(() => proxyReq.destroy(connectTimeoutError()), this.options.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      onConnect();
    });
    socket.once('close', () => clearTimeout(timer));
  }
}
