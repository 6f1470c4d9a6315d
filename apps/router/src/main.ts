import cluster from 'node:cluster';
import { serveClusterWorker, runClusterPrimary } from './cluster';
import { checkRedisAccess } from '@paas/redis';
import { loadRouterConfig, type RouterConfig } from './config';
import { createLogger } from './logger';
import { startRouter } from './router';

/**
 * Boots the router from the environment. With ROUTER_WORKERS above 1 this process becomes the
 * cluster primary (admin port, worker supervision) and each worker runs a whole router; else it
 * runs one router itself. Stops gracefully on SIGTERM/SIGINT (a worker also on its primary's
 * drain message).
 */
async function main(): Promise<void> {
  let config: RouterConfig;
  try {
    config = loadRouterConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  // A wrong password in REDIS_URL fails the boot here (in the primary and in each worker).
  try {
    await checkRedisAccess(config.redisUrl, 'router');
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  const clustered = (config.workers ?? 1) > 1;
  if (clustered && cluster.isPrimary) return runClusterPrimary(config, logger);

  // A worker leaves the admin port to its primary.
  const router = await startRouter(clustered ? { ...config, adminPort: 0 } : config, { logger });

  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'router-stopping', reason }, 'stopping router');
    router.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ event: 'router-stop-failed', err }, 'router did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (cluster.isWorker) serveClusterWorker(router, stop);
}

main().catch((err: unknown) => {
  console.error('router failed to start:', err);
  process.exit(1);
});
