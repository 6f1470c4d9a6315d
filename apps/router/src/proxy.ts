import { createProxyServer } from 'http-proxy-3';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER } from './forwarding-headers';
import type { RequestContext } from './request-context';
import { routerErrors, sendRouterError, writeRawRouterError, type RouterError } from './router-error';
import type { Route, RouteTable } from './route-table';

export interface BackendProxyOptions {
  table: RouteTable;
  logger: Logger;
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
  /** What http-proxy reads the request body from; fed from the request only once connected. */
  gate: PassThrough;
  startBody(): void;
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
  private readonly proxy = createProxyServer({ xfwd: false, changeOrigin: false, ws: true });
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
    this.proxy.on('proxyReq', (proxyReq, _req, _res, opts, socket) => this.onProxyReq(proxyReq, opts, socket));
    this.proxy.on('proxyRes', (proxyRes, req, res) => {
      // A backend that dies mid-response: cut the client's connection too, so it sees the
      // truncation instead of waiting for the rest forever.
      proxyRes.on('error', () => undefined);
      proxyRes.on('close', () => {
        if (proxyRes.complete || res.destroyed) return;
        this.log.warn({ event: 'backend-failed-mid-response', backend: `${proxyRes.socket?.remoteAddress}:${proxyRes.socket?.remotePort}`, requestId: ctx?.requestId }, 'backend closed the connection mid-response');
        res.destroy();
      });
      const ctx = this.contexts.get(req);
      if (!ctx) return;
      proxyRes.headers[REQUEST_ID_HEADER] = ctx.requestId;
      proxyRes.on('data', (chunk: Buffer) => (ctx.bytes += chunk.length));
    });
    this.proxy.on('proxyReqWs', (proxyReq, req) => {
      const ctx = this.contexts.get(req);
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
    const fail = (error: RouterError) => {
      ctx.routerError = error.code;
      ctx.bytes += sendRouterError(req, res, error);
    };

    const tryNext = (): void => {
      const endpoint = this.options.table.pick(route, tried);
      if (!endpoint) return fail(routerErrors.backendUnreachable(host, ctx.attempts));
      tried.add(endpoint.instanceId);
      ctx.attempts += 1;
      ctx.backend = endpoint.address;

      const gate = new PassThrough();
      const attempt: Attempt = {
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
      this.attempts.set(gate, attempt);

      this.proxy.web(req, res, { target: `http://${endpoint.address}`, buffer: gate, agent: this.agent }, (err) => {
        if (attempt.settled) return;
        attempt.settled = true;
        req.unpipe(gate);
        const code = (err as NodeJS.ErrnoException).code;
        if (res.destroyed || req.socket.destroyed) return; // the client left; nothing to answer
        if (res.headersSent) {
          // The backend failed mid-response: all the router can do is cut the connection.
          this.log.warn({ event: 'backend-failed-mid-response', host, backend: endpoint.address, code, requestId: ctx.requestId }, 'backend failed mid-response');
          res.destroy();
          return;
        }
        const retriable =
          !attempt.connected ||
          (attempt.reusedSocket && code === 'ECONNRESET' && attempt.bodyBytes === 0 && req.complete && IDEMPOTENT.has(req.method ?? ''));
        this.log.debug(
          { event: 'backend-attempt-failed', host, backend: endpoint.address, code, attempt: ctx.attempts, retriable, requestId: ctx.requestId },
          'backend attempt failed',
        );
        if (!attempt.connected) this.options.table.markFailed(endpoint.instanceId);
        if (retriable && ctx.attempts < this.maxAttempts) return tryNext();
        if (attempt.timedOut) return fail(routerErrors.backendTimeout(host, this.options.backendTimeoutMs));
        fail(routerErrors.backendUnreachable(host, ctx.attempts));
      });
    };
    tryNext();
  }

  /** Proxies a WebSocket upgrade to a live endpoint of `route`; one try, 502 on the raw socket if it fails. */
  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer, route: Route, ctx: RequestContext): void {
    const { host } = route;
    const endpoint = this.options.table.pick(route);
    if (!endpoint) {
      ctx.routerError = routerErrors.backendUnreachable(host, 0).code;
      writeRawRouterError(socket, req.headers, routerErrors.backendUnreachable(host, 0));
      return;
    }
    this.contexts.set(req, ctx);
    ctx.attempts = 1;
    ctx.backend = endpoint.address;
    // No pooling for upgrades: the connection belongs to the WebSocket for its whole life.
    this.proxy.ws(req, socket, head, { target: `http://${endpoint.address}`, agent: false }, (err) => {
      this.log.debug({ event: 'websocket-backend-failed', host, backend: endpoint.address, err: err.message, requestId: ctx.requestId }, 'websocket backend failed');
      if (ctx.upgradeStatus === undefined && !ctx.routerError) {
        const error = routerErrors.backendUnreachable(host, 1);
        ctx.routerError = error.code;
        writeRawRouterError(socket, req.headers, error);
      }
    });
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
