import { redisKeys } from '@paas/contracts';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { RouterConfig } from './config';
import { createLogger } from './logger';
import { BackendProxy } from './proxy';
import { RouteSync } from './route-sync';
import { RouteTable, type Clock } from './route-table';
import { createRouterServer } from './server';

export interface RouterDeps {
  /** Defaults to a pino logger at `config.logLevel`. */
  logger?: Logger;
  /** Clock used to expire endpoints; defaults to Date.now. */
  clock?: Clock;
  /** How long startRouter waits for the first route table load before listening anyway (default 5 s). */
  initialSyncWaitMs?: number;
}

/** A started router. `close` drains and stops it; safe to call twice (the second call waits for the first). */
export interface RunningRouter {
  /** The port actually listened on (useful with `config.port` 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Starts a router: loads the route table from Redis (waiting at most `initialSyncWaitMs`), keeps
 * it in sync, and listens on `config.host:config.port`. Rejects if the port cannot be bound.
 */
export async function startRouter(config: RouterConfig, deps: RouterDeps = {}): Promise<RunningRouter> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const table = new RouteTable(deps.clock);
  const sync = new RouteSync({
    redisUrl: config.redisUrl,
    keys: redisKeys(config.redisPrefix),
    table,
    logger,
    resyncIntervalMs: config.resyncIntervalMs,
  });
  const proxy = new BackendProxy({
    table,
    logger,
    connectTimeoutMs: config.connectTimeoutMs,
    backendTimeoutMs: config.backendTimeoutMs,
  });
  const routerServer = createRouterServer({ table, proxy, logger, tableLoaded: () => sync.hasSynced });
  const { server } = routerServer;

  await sync.start(deps.initialSyncWaitMs ?? 5_000);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    proxy.close();
    await sync.stop();
    throw err;
  }
  server.on('error', (err) => logger.error({ event: 'server-error', err }, 'router server error'));
  const port = (server.address() as AddressInfo).port;
  logger.info({ event: 'router-listening', host: config.host, port, routes: table.size }, 'router listening');

  let closing: Promise<void> | undefined;
  const drain = async (): Promise<void> => {
    logger.info({ event: 'router-draining', inFlight: routerServer.inFlight() }, 'router draining');
    routerServer.startDraining();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
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
    proxy.close();
    await sync.stop();
    logger.info({ event: 'router-stopped' }, 'router stopped');
  };

  return {
    port,
    close: () => (closing ??= drain()),
  };
}
