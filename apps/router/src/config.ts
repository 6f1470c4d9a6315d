import { ROUTE_RESYNC_INTERVAL_MS, parseEnv } from '@paas/contracts';
import { z } from 'zod';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const schema = z.object({
  /** Port the router listens on; 0 picks a free one (tests). */
  ROUTER_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  ROUTER_HOST: z.string().min(1).default('0.0.0.0'),
  REDIS_URL: z.string({ error: 'REDIS_URL is required (e.g. redis://127.0.0.1:6379)' }).regex(/^rediss?:\/\//, {
    error: 'REDIS_URL must be a redis:// or rediss:// URL',
  }),
  PAAS_REDIS_PREFIX: z.string().regex(/^[a-z0-9-]+$/, { error: 'PAAS_REDIS_PREFIX must match [a-z0-9-]+' }).default('paas'),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  /** Full re-read of the route table, in case a change message was missed. */
  ROUTER_RESYNC_INTERVAL_MS: z.coerce.number().int().positive().default(ROUTE_RESYNC_INTERVAL_MS),
  /** A backend that has not accepted the TCP connection by then counts as unreachable (and is retried). */
  ROUTER_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  /** A backend silent for this long (no response byte) gets a 504; gorouter's default is 900 s. */
  ROUTER_BACKEND_TIMEOUT_MS: z.coerce.number().int().positive().default(900_000),
  /** On SIGTERM, how long in-flight requests and WebSockets may take before they are cut. */
  ROUTER_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().nonnegative().default(10_000),
});

export type LogLevel = (typeof logLevels)[number];

/** Everything the router needs to run; built once at boot by `loadRouterConfig`, or by hand in tests. */
export interface RouterConfig {
  port: number;
  host: string;
  redisUrl: string;
  redisPrefix: string;
  logLevel: LogLevel;
  resyncIntervalMs: number;
  connectTimeoutMs: number;
  backendTimeoutMs: number;
  shutdownTimeoutMs: number;
}

/** Parses the environment once at boot; a bad value fails the boot with the variable named. */
export function loadRouterConfig(env: NodeJS.ProcessEnv = process.env): RouterConfig {
  const c = parseEnv(schema, env, 'router');
  return {
    port: c.ROUTER_PORT,
    host: c.ROUTER_HOST,
    redisUrl: c.REDIS_URL,
    redisPrefix: c.PAAS_REDIS_PREFIX,
    logLevel: c.LOG_LEVEL,
    resyncIntervalMs: c.ROUTER_RESYNC_INTERVAL_MS,
    connectTimeoutMs: c.ROUTER_CONNECT_TIMEOUT_MS,
    backendTimeoutMs: c.ROUTER_BACKEND_TIMEOUT_MS,
    shutdownTimeoutMs: c.ROUTER_SHUTDOWN_TIMEOUT_MS,
  };
}
