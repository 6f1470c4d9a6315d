import { pino, type Logger } from 'pino';
import type { LogLevel } from './config';

/** The router's structured logger: JSON lines on stdout, every line tagged `component: "router"`. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { component: 'router', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
