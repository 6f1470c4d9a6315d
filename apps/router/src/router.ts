import { DEFAULT_APP_LOG_SETTINGS, logSource, redisKeys } from '@paas/contracts';
import { AppLogWriter, createRedisConnection } from '@paas/redis';
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
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

export interface RouterDeps {
  /** Defaults to a pino logger at `config.logLevel`. */
  logger?: Logger;
  /** Clock used to expire endpoints; defaults to Date.now. */
  clock?: Clock;
  /** How long startRouter waits for the first route table load before listening anyway (default 5 s). */
  initialSyncWaitMs?: number;
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
  /** This router's Prometheus metrics (a registry of its own). */
  metrics: RouterMetrics;
  /** What GET /health answers for this router. */
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
  const sync = new RouteSync({
    redisUrl: config.redisUrl,
    keys: redisKeys(config.redisPrefix),
    table,
    logger,
    resyncIntervalMs: config.resyncIntervalMs,
  });
  // The observer reads `metrics` only once requests flow, after it is built.
  const limiter: AppLimiter = new AppLimiter(config.appLimits ?? DEFAULT_APP_LIMITS, { refused: (key, reason) => metrics.appRefused(key, reason) });
  const metrics = new RouterMetrics({ stats: () => table.stats(), lastSyncAt: () => sync.lastSyncedAt }, limiter);
  const loadSampler = sampleLoopUtilization((utilization) => limiter.observeUtilization(utilization));
  const health = (): RouterHealth => {
    const at = sync.lastSyncedAt;
    return at === undefined ? { status: 'starting', routes: table.size } : { status: 'ok', routes: table.size, table_age_ms: Date.now() - at };
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
  });
  const { server } = routerServer;

  await sync.start(deps.initialSyncWaitMs ?? 5_000);
  // node:cluster workers get their connections from the primary: one listener each.
  const listeners = cluster.isWorker ? 1 : (config.listeners ?? 1);
  const extra = new ExtraListeners(server, (err) => logger.error({ event: 'server-error', err }, 'router listener error'));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: config.port, host: config.host, reusePort: listeners > 1 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await extra.listen(listeners - 1, (server.address() as AddressInfo).port, config.host);
  } catch (err) {
    clearInterval(loadSampler);
    extra.close();
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
      );
    } catch (err) {
      clearInterval(loadSampler);
      extra.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      proxy.close();
      await sync.stop();
      await closeAppLogs();
      throw err;
    }
  }
  logger.info({ event: 'router-listening', host: config.host, port, listeners, routes: table.size }, 'router listening');

  let closing: Promise<void> | undefined;
  const drain = async (): Promise<void> => {
    logger.info({ event: 'router-draining', inFlight: routerServer.inFlight() }, 'router draining');
    routerServer.startDraining();
    extra.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const adminClosed = admin?.close();
    const deadline = Date.now() + config.shutdownTimeoutMs;
    // Keep-alive connections become idle as their last response ends; close each as it does.
    while (Date.now() < deadline && (routerServer.inFlight() > 0 || routerServer.upgradedSockets().size > 0)) {
      server.closeIdleConnections();
      await sleep(50);
    }
    const cut = routerServer.inFlight() + routerServer.upgradedSockets().size;
    if (cut > 0) logger.warn({ event: 'router-drain-timeout', cut }, 'shutdown timeout: cutting the remaining connections');
    for (const socket of routerServer.upgradedSockets()) socket.destroy();
    server.closeAllConnections();
    await closed;
    await adminClosed;
    clearInterval(loadSampler);
    proxy.close();
    await sync.stop();
    await closeAppLogs();
    logger.info({ event: 'router-stopped' }, 'router stopped');
  };

  return {
    port,
    adminPort: admin?.port,
    metrics,
    health,
    close: () => (closing ??= drain()),
  };
}
