import { missingRouterNodeFlags } from '@paas/contracts';
import { checkRedisAccess } from '@paas/redis';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadRouterConfig, type RouterConfig } from './config';
import { createLogger } from './logger';
import { startRouter } from './router';

/**
 * The message a router process sends its parent over an IPC channel (when it was started with
 * one, as the platform's supervisor does) once it listens and has read the route table in full:
 * a rolling restart drains the process it replaces only then. PM2's `process.send('ready')`, with
 * the port.
 */
export interface RouterReadyMessage {
  type: 'paas-router:ready';
  pid: number;
  port: number;
  adminPort?: number;
  /** The TLS listener's port, when ROUTER_HTTPS_PORT enabled it. */
  httpsPort?: number;
}

/**
 * Boots one router process from the environment. Several may share ROUTER_PORT
 * (ROUTER_REUSE_PORT=true), each under its own supervisor, so that one dying or restarting takes
 * only its own connections. Stops gracefully on SIGTERM/SIGINT: stops accepting, finishes what is
 * in flight, closes keep-alive connections with `connection: close`.
 */
async function main(): Promise<void> {
  let config: RouterConfig;
  try {
    config = loadRouterConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  // A wrong password in REDIS_URL fails the boot here.
  try {
    await checkRedisAccess(config.redisUrl, 'router');
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  const missing = missingRouterNodeFlags(process.execArgv, process.env.NODE_OPTIONS);
  if (missing.length > 0) {
    logger.warn({ event: 'router-node-flags-missing', missing }, `node runs the router without ${missing.join(' ')}: one app's flood will delay every app's requests by long GC pauses; start it as \`node ${missing.join(' ')} apps/router/dist/main.js\``);
  }
  const router = await startRouter(config, { logger });

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

  if (process.send && process.connected) {
    // startRouter listens after 5 s even without a table (to answer 503s): ready means the table too.
    while (!stopping && router.health().status !== 'ok') await sleep(50);
    if (stopping || !process.connected) return;
    const ready: RouterReadyMessage = { type: 'paas-router:ready', pid: process.pid, port: router.port, ...(router.adminPort ? { adminPort: router.adminPort } : {}), ...(router.httpsPort !== undefined ? { httpsPort: router.httpsPort } : {}) };
    process.send(ready);
    // The channel must not keep the process alive, nor its loss end it: the servers do that.
    process.channel?.unref();
  }
}

main().catch((err: unknown) => {
  console.error('router failed to start:', err);
  process.exit(1);
});
