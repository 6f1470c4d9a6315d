import { pino, type Logger } from 'pino';
import { eventLogHooks } from '@paas/contracts';
import type { LogLevel } from './config';

/**
 * The router's structured logger: JSON lines on stdout, every line tagged `component: "router"`,
 * its message the kebab-case event (eventLogHooks, docs/logs.md).
 * Written without blocking: lines are buffered up to 4 KiB (an access-log line per request would
 * otherwise cost a write syscall each) and flushed at least every 250 ms, and synchronously when
 * the process exits (pino's exit hook), so a stop (SIGTERM, process.exit) loses none.
 */
export function createLogger(level: LogLevel): Logger {
  return pino(
    {
      level,
      base: { component: 'router', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: eventLogHooks,
    },
    pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 250 }),
  );
}
