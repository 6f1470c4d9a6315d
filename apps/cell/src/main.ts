import pino from 'pino';
import { CellAgent } from './cell-agent';
import { cellHostFor } from './cell-host';
import { checkRedisAccess } from '@paas/redis';
import { eventLogHooks } from '@paas/contracts';
import { loadCellConfig } from './config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadCellConfig();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  // A wrong password in REDIS_URL fails the boot here, before any network or container is touched.
  try {
    await checkRedisAccess(config.redisUrl, `cell ${config.id}`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  // Every line's message is its kebab-case event (docs/logs.md).
  const logger = pino({ name: `cell-${config.id}`, level: config.logLevel, hooks: eventLogHooks });
  const agent = new CellAgent(config, logger, cellHostFor(config));
  let stopping = false;
  // SIGTERM drains first (its instances move to other cells, no request fails); SIGINT stops at
  // once (the whole local platform is going down, there is nowhere to move to).
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'cell-shutdown');
    const drained = signal === 'SIGTERM' ? agent.drain(config.drainTimeoutMs) : Promise.resolve();
    drained
      .then(() => agent.shutdown())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await agent.start();
  } catch (error) {
    // A start that failed half-way (e.g. its metrics port taken) must not leave its network behind.
    stopping = true;
    await agent.shutdown().catch(() => undefined);
    throw error;
  }
}

main().catch((error: Error) => {
  console.error(`cell failed to start: ${error.message}`);
  process.exit(1);
});
