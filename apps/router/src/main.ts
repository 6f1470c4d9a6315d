import { loadRouterConfig, type RouterConfig } from './config';
import { createLogger } from './logger';
import { startRouter } from './router';

/** Boots the router from the environment and stops it gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: RouterConfig;
  try {
    config = loadRouterConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  const router = await startRouter(config, { logger });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'router-stopping', signal }, 'stopping router');
    router.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ event: 'router-stop-failed', err }, 'router did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error('router failed to start:', err);
  process.exit(1);
});
