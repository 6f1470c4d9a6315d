import { DEFAULT_APP_LOG_SETTINGS, logSource, redisKeys } from '@paas/contracts';
import { AppLogWriter, createRedisConnection, readCertificates, readWellKnownAnswers } from '@paas/redis';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { RouterConfig } from './config';
import { startAdminServer, type AdminServer } from '@paas/admin-http';
import type { RouterHealth } from './router-health';
import { AppLimiter, DEFAULT_APP_LIMITS } from './app-limiter';
import { EndpointLoad } from './endpoint-load';
import { ExtraListeners } from './listeners';
import { createLogger } from './logger';
import { RouterMetrics } from './metrics';
import { BackendProxy } from './proxy';
import { RouteSync } from './route-sync';
import { RouteTable, type Clock } from './route-table';
import { createRouterServer } from './server';
import { TrustedProxies } from './trusted-proxies';
import { CertificateTable } from './certificate-table';
import { isHttp2 } from './request-address';
import type { SideTable } from './side-tables';
import { TlsListener } from './tls-listener';
import { WellKnownAnswers } from './well-known-answers';

export interface RouterDeps {
  /** Defaults to a pino logger at `config.logLevel`. */
  logger?: Logger;
  /** Clock used to expire endpoints; defaults to Date.now. */
  clock?: Clock;
  /** How long startRouter waits for the first route table load before listening anyway (default 5 s). */
  initialSyncWaitMs?: number;
}

/**
 * While draining, a keep-alive connection is left this long to send its next request (which is
 * answered with `connection: close`) before it is closed as idle: closing it at once would race
 * a request the client is sending on it, and that request would fail.
 */
const DRAIN_IDLE_GRACE_MS = 1_000;

/**
 * Linux resets the connections waiting in a closed SO_REUSEPORT listener's accept queue, unless
 * net.ipv4.tcp_migrate_req=1 moves them to another listener of the port. The router cannot set it
 * (it is the network namespace's); it says so once at boot. Undefined where the kernel lacks it.
 */
function migratesQueuedConnections(): boolean | undefined {
  try {
    return readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim() === '1';
  } catch {
    return undefined;
  }
}

/** How often the event loop's utilization is measured for the per-app bound. */
const UTILIZATION_SAMPLE_MS = 50;

/** Calls `observe` every UTILIZATION_SAMPLE_MS with the event loop's utilization (0..1) since the last call. */
function sampleLoopUtilization(observe: (utilization: number) => void): NodeJS.Timeout {
  let last = performance.eventLoopUtilization();
  return setInterval(() => {
    const now = performance.eventLoopUtilization();
    observe(performance.eventLoopUtilization(now, last).utilization);
    last = now;
  }, UTILIZATION_SAMPLE_MS).unref();
}

/** A started router. `close` drains and stops it; safe to call twice (the second call waits for the first). */
export interface RunningRouter {
  /** The port actually listened on (useful with `config.port` 0). */
  port: number;
  /** The admin server's port, when `config.adminPort` enabled it. */
  adminPort?: number;
  /** The TLS listener's port, when `config.https` enabled it. */
  httpsPort?: number;
  /** This router's Prometheus metrics (a registry of its own). */
  metrics: RouterMetrics;
  /** What GET /health answers for this router (this process). */
  health(): RouterHealth;
  close(): Promise<void>;
}

/**
 * Starts a router: loads the route table from Redis (waiting at most `initialSyncWaitMs`), keeps
 * it in sync, and listens on `config.host:config.port`. Rejects if the port cannot be bound.
 */
export async function startRouter(config: RouterConfig, deps: RouterDeps = {}): Promise<RunningRouter> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const load = new EndpointLoad();
  const table = new RouteTable(
    deps.clock,
    undefined,
    config.loadBalancing === 'least-connections' ? { kind: 'least-connections', load: (id) => load.of(id) } : { kind: 'round-robin' },
  );
  const keys = redisKeys(config.redisPrefix);
  // Well-known answers on every router (ACME and domain verification come over plain HTTP);
  // certificates only with a TLS listener.
  const wellKnown = new WellKnownAnswers(deps.clock);
  const certificates = config.https ? new CertificateTable(config.https.secretKey, logger, deps.clock) : undefined;
  const sideTables: SideTable[] = [{ kind: 'well-known', load: async (redis) => wellKnown.replaceAll(await readWellKnownAnswers(redis, keys, (deps.clock ?? Date.now)())) }];
  if (certificates) sideTables.push({ kind: 'certificates', load: async (redis) => certificates.replaceAll(await readCertificates(redis, keys)) });
  const sync = new RouteSync({
    redisUrl: config.redisUrl,
    keys,
    table,
    logger,
    resyncIntervalMs: config.resyncIntervalMs,
    sideTables,
  });
  // The observer reads `metrics` only once requests flow, after it is built.
  const limiter: AppLimiter = new AppLimiter(config.appLimits ?? DEFAULT_APP_LIMITS, { refused: (key, reason) => metrics.appRefused(key, reason) });
  const metrics = new RouterMetrics({ stats: () => table.stats(), lastSyncAt: () => sync.lastSyncedAt, certificates: () => certificates?.size }, limiter);
  const loadSampler = sampleLoopUtilization((utilization) => limiter.observeUtilization(utilization));
  const health = (): RouterHealth => {
    const at = sync.lastSyncedAt;
    return at === undefined
      ? { status: 'starting', routes: table.size, pid: process.pid }
      : { status: 'ok', routes: table.size, table_age_ms: Date.now() - at, pid: process.pid };
  };
  const proxy = new BackendProxy({
    table,
    logger,
    load,
    metrics,
    connectTimeoutMs: config.connectTimeoutMs,
    backendTimeoutMs: config.backendTimeoutMs,
  });
  // Each request that reached an app adds its RTR line to the app's log, rate-limited per app.
  const appLogSettings = config.appLogs ?? DEFAULT_APP_LOG_SETTINGS;
  const appLogConnection = createRedisConnection(config.redisUrl, 'router-app-logs');
  const appLogs = new AppLogWriter(appLogConnection, redisKeys(config.redisPrefix), {
    settings: appLogSettings,
    rateLimit: { ratePerSecond: appLogSettings.ratePerSecond, burst: appLogSettings.burst },
    markerSource: logSource.router(),
    markerWhere: 'the router',
    onError: (err) => logger.warn({ event: 'app-log-write-failed', err }, 'app log write failed'),
  });
  const closeAppLogs = async () => {
    await appLogs.close();
    appLogConnection.disconnect();
  };
  const routerServer = createRouterServer({
    table,
    proxy,
    logger,
    metrics,
    tableLoaded: () => sync.hasSynced,
    trustedProxies: new TrustedProxies(config.trustedProxies),
    limiter,
    appAccess: (appId, text) => void appLogs.write(appId, { source: logSource.router(), stream: 'OUT', text }, { limited: true }),
    wellKnown,
    httpsPublicPort: () => config.httpsPublicPort ?? httpsPort ?? 443,
    ...(certificates ? { connectionCovers: (servername: string, host: string) => certificates.connectionCovers(servername, host) } : {}),
  });
  const { server } = routerServer;
  const tls = config.https && certificates
    ? new TlsListener({ certificates, secretKey: config.https.secretKey, logger, handshakeFailed: (reason) => metrics.tlsHandshakeFailed(reason), clock: deps.clock })
    : undefined;
  if (tls) routerServer.serveTls(tls.server);
  let httpsPort: number | undefined;
  // Responses being made, so that a drain can tell their clients too that the connection ends.
  const responding = new Set<ServerResponse>();
  const track = (_req: IncomingMessage, res: ServerResponse) => {
    responding.add(res);
    res.once('close', () => responding.delete(res));
  };
  server.on('request', track);
  tls?.server.on('request', track as never);

  await sync.start(deps.initialSyncWaitMs ?? 5_000);
  const listeners = config.listeners ?? 1;
  // The extra listeners join the port's SO_REUSEPORT group, as do other router processes sharing it.
  const reusePort = (config.reusePort ?? false) || listeners > 1;
  const extra = new ExtraListeners(server, (err) => logger.error({ event: 'server-error', err }, 'router listener error'));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: config.port, host: config.host, reusePort }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await extra.listen(listeners - 1, (server.address() as AddressInfo).port, config.host);
    if (tls && config.https) httpsPort = await tls.listen(config.https.port, config.host, listeners, config.reusePort ?? false);
  } catch (err) {
    clearInterval(loadSampler);
    void extra.close();
    void tls?.stopAccepting();
    server.close();
    proxy.close();
    await sync.stop();
    await closeAppLogs();
    throw err;
  }
  server.on('error', (err) => logger.error({ event: 'server-error', err }, 'router server error'));
  const port = (server.address() as AddressInfo).port;
  let admin: AdminServer | undefined;
  if (config.adminPort) {
    try {
      admin = await startAdminServer(
        config.adminAddress ?? '127.0.0.1',
        config.adminPort,
        {
          health: () => Promise.resolve(health()),
          metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
        },
        logger,
        { reusePort: config.reusePort ?? false },
      );
    } catch (err) {
      clearInterval(loadSampler);
      void extra.close();
      await tls?.stopAccepting();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      proxy.close();
      await sync.stop();
      await closeAppLogs();
      throw err;
    }
  }
  logger.info({ event: 'router-listening', host: config.host, port, httpsPort, listeners, routes: table.size, certificates: certificates?.size, reusePort }, 'router listening');
  if (config.reusePort && migratesQueuedConnections() === false) {
    logger.warn(
      { event: 'tcp-migrate-req-off' },
      'net.ipv4.tcp_migrate_req is 0: connections queued at a router process that stops or dies are reset instead of moving to another; set it to 1 (docs/operations.md)',
    );
  }

  let closing: Promise<void> | undefined;
  /**
   * Stops accepting (the other processes on a shared port take the new connections), answers
   * every request still coming with `connection: close`, closes keep-alive connections that stay
   * idle past DRAIN_IDLE_GRACE_MS, and cuts what is left at the shutdown timeout.
   */
  const drain = async (): Promise<void> => {
    logger.info({ event: 'router-draining', inFlight: routerServer.inFlight() }, 'router draining');
    routerServer.startDraining();
    for (const res of responding) if (!res.headersSent && !isHttp2(res.req)) res.setHeader('connection', 'close');
    // net.Server's close, not http.Server's: that one also closes every idle keep-alive connection
    // at once, racing the requests clients are sending on them. 'close' comes once all have ended,
    // the connections of the extra listeners too.
    const closed = Promise.all([new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve())), extra.close(), tls?.stopAccepting()]);
    let allEnded = false;
    void closed.then(() => (allEnded = true));
    const adminClosed = admin?.close();
    const started = Date.now();
    const deadline = started + config.shutdownTimeoutMs;
    const idleCutAt = started + Math.min(DRAIN_IDLE_GRACE_MS, config.shutdownTimeoutMs / 2);
    while (!allEnded && Date.now() < deadline) {
      if (Date.now() >= idleCutAt) {
        server.closeIdleConnections();
        tls?.closeIdle();
      }
      await sleep(25);
    }
    const cut = routerServer.inFlight() + routerServer.upgradedSockets().size;
    if (cut > 0) logger.warn({ event: 'router-drain-timeout', cut }, 'shutdown timeout: cutting the remaining connections');
    for (const socket of routerServer.upgradedSockets()) socket.destroy();
    server.closeAllConnections();
    tls?.cutAll();
    await closed;
    // http.Server's own close now (nothing is left to close): it stops its connection checker.
    server.close();
    tls?.server.close();
    await adminClosed;
    clearInterval(loadSampler);
    proxy.close();
    await sync.stop();
    await closeAppLogs();
    logger.info({ event: 'router-stopped', drainMs: Date.now() - started }, 'router stopped');
  };

  return {
    port,
    adminPort: admin?.port,
    httpsPort,
    metrics,
    health,
    close: () => (closing ??= drain()),
  };
}
