import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { ROUTE_RESYNC_INTERVAL_MS, appLogEnvShape, appLogSettings, parseEnv, type AppLogSettings } from '@paas/contracts';
import { parseSecretKey } from '@paas/redis';
import { z } from 'zod';
import { DEFAULT_APP_LIMITS, type AppLimits } from './app-limiter';
import { splitTrustedProxies, trustedProxyProblem } from './trusted-proxies';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const loadBalancingStrategies = ['round-robin', 'least-connections'] as const;

/** `round-robin`: instances take turns; `least-connections`: the instance with the fewest requests in flight (from this router process). */
export type LoadBalancing = (typeof loadBalancingStrategies)[number];

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
  /** How an app's instances share a route's traffic. */
  ROUTER_LOAD_BALANCING: z.enum(loadBalancingStrategies).default('round-robin'),
  /** Port of the admin server (GET /health, GET /metrics); 0 (the default) disables it. */
  ROUTER_ADMIN_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /**
   * Address the admin server listens on: loopback by default, or a management address that no
   * container reaches. Never the public address: its metrics name every tenant's apps.
   */
  ROUTER_ADMIN_ADDRESS: z.string().refine((v) => isIP(v) !== 0, { error: 'ROUTER_ADMIN_ADDRESS must be an IP address like 127.0.0.1' }).default('127.0.0.1'),
  /**
   * Listen with SO_REUSEPORT (traffic and admin port): several router processes, each on its own,
   * share one port, so one that dies or restarts takes only its own connections. `false` (the
   * default) keeps the port to this process alone: a second one fails with EADDRINUSE.
   */
  ROUTER_REUSE_PORT: z.enum(['true', 'false'], { error: 'ROUTER_REUSE_PORT must be "true" or "false"' }).default('false'),
  /** Gone (it forked node:cluster workers, all lost with their primary): say what replaced it. */
  ROUTER_WORKERS: z
    .undefined({
      error:
        'ROUTER_WORKERS is gone: run one router process per core, each with ROUTER_REUSE_PORT=true on the same ROUTER_PORT and an ROUTER_ADMIN_PORT of its own (docs/operations.md)',
    })
    .optional(),
  /**
   * The load balancers in front of the router (IP addresses and CIDR ranges, comma-separated):
   * only their X-Forwarded-* and Forwarded headers are believed. Default none: every client's
   * are replaced by the router's own.
   */
  ROUTER_TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform(splitTrustedProxies)
    .superRefine((entries, ctx) => {
      for (const entry of entries) {
        const problem = trustedProxyProblem(entry);
        if (problem) ctx.addIssue({ code: 'custom', message: `${problem}: list the load balancers' addresses, e.g. "10.0.0.5, 10.1.0.0/16"` });
      }
    }),
  /**
   * Requests of one route target (app) proxied at once by each router process at most, however
   * many instances it has; 0 turns the bound off. Beyond it requests wait (ROUTER_APP_MAX_QUEUED, ROUTER_APP_QUEUE_TIMEOUT_MS), then get
   * 503 app-overloaded. WebSocket upgrades are exempt.
   */
  ROUTER_APP_MAX_IN_FLIGHT: z.coerce.number().int().min(0).max(1_000_000).default(DEFAULT_APP_LIMITS.maxInFlight),
  /**
   * Requests proxied at once per live instance of a route target, per router process: an app's
   * bound is this times its instances, up to ROUTER_APP_MAX_IN_FLIGHT; 0: the bound is
   * ROUTER_APP_MAX_IN_FLIGHT whatever the instances.
   */
  ROUTER_APP_MAX_IN_FLIGHT_PER_INSTANCE: z.coerce.number().int().min(0).max(1_000_000).default(DEFAULT_APP_LIMITS.maxInFlightPerInstance),
  /** Requests of one route target that may wait for a slot; beyond it a request gets 503 at once. */
  ROUTER_APP_MAX_QUEUED: z.coerce.number().int().min(0).max(1_000_000).default(DEFAULT_APP_LIMITS.maxQueued),
  /** How long a request may wait for a slot before it gets 503. */
  ROUTER_APP_QUEUE_TIMEOUT_MS: z.coerce.number().int().positive().max(600_000).default(DEFAULT_APP_LIMITS.queueTimeoutMs),
  /**
   * Listening sockets on ROUTER_PORT in this process (one SO_REUSEPORT group): the router accepts
   * one connection per socket per event-loop turn, so under load one socket leaves new
   * connections waiting in its accept queue. 1 listens plainly (no SO_REUSEPORT).
   */
  ROUTER_LISTENERS: z.coerce.number().int().min(1).max(64).default(32),
  /**
   * Event-loop utilization (0..1) above which the busiest app's bound is halved (not below 2) while
   * other apps have traffic, growing back by one every 50 ms once it is below 80% of this;
   * 0: the bound stays ROUTER_APP_MAX_IN_FLIGHT.
   */
  ROUTER_APP_CUT_UTILIZATION: z.coerce.number().min(0).max(1).default(DEFAULT_APP_LIMITS.cutAboveUtilization),
  /** App logs: lines kept per app, idle expiry, and the per-app rate limit of access lines (see docs/logs.md). */
  ...appLogEnvShape,
  /** Port of the TLS listener (HTTPS, HTTP/2 and HTTP/1.1); unset: none; 0 picks a free one (tests). Needs PAAS_SECRET_KEY_FILE. */
  ROUTER_HTTPS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** The HTTPS port clients see (a load balancer's, a port mapping's): the port of https redirects; default ROUTER_HTTPS_PORT, else 443. */
  ROUTER_HTTPS_PUBLIC_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** File with the platform secret key (32 bytes, base64 or hex) that opens the certificates' private keys. */
  PAAS_SECRET_KEY_FILE: z.string().min(1).optional(),
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
  /** Defaults to round-robin. */
  loadBalancing?: LoadBalancing;
  /** Admin server port (health, metrics); 0 or undefined: none. */
  adminPort?: number;
  /** Address of the admin server; default 127.0.0.1. */
  adminAddress?: string;
  /** Share the port (and the admin port) with other router processes (SO_REUSEPORT); default false. */
  reusePort?: boolean;
  /** Peers whose forwarding headers are kept (IPs and CIDRs, validated); none when absent. */
  trustedProxies?: readonly string[];
  /** The RTR/0 access lines written to the apps' logs; defaults to DEFAULT_APP_LOG_SETTINGS. */
  appLogs?: AppLogSettings;
  /** Listening sockets on the port in this process (SO_REUSEPORT when more than 1); default 1. */
  listeners?: number;
  /** The per-app bound on requests in flight and its queue; defaults to DEFAULT_APP_LIMITS. */
  appLimits?: AppLimits;
  /** The TLS listener; none when absent. */
  https?: RouterHttpsConfig;
  /** Port of https redirect URLs (443 is left out of them); default `https.port` as bound, else 443. */
  httpsPublicPort?: number;
}

/** The TLS listener: its port (0: a free one) and the platform secret key that opens the certificates' keys. */
export interface RouterHttpsConfig {
  port: number;
  secretKey: Buffer;
}

/** The platform secret key from its file; throws naming the variable and the fix. */
function readSecretKey(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`invalid router configuration:\n  PAAS_SECRET_KEY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): point it at the platform secret key file the controller uses`);
  }
  try {
    return parseSecretKey(text);
  } catch (err) {
    throw new Error(`invalid router configuration:\n  PAAS_SECRET_KEY_FILE: ${file}: ${(err as Error).message}`);
  }
}

/** The TLS listener's settings: ROUTER_HTTPS_PORT needs PAAS_SECRET_KEY_FILE, whose key must parse. */
function httpsConfig(port: number | undefined, keyFile: string | undefined): RouterHttpsConfig | undefined {
  if (port === undefined) return undefined;
  if (keyFile === undefined) {
    throw new Error(
      'invalid router configuration:\n  PAAS_SECRET_KEY_FILE: required with ROUTER_HTTPS_PORT: the router opens the certificates\' private keys with the platform secret key; set it to the key file the controller uses, or unset ROUTER_HTTPS_PORT',
    );
  }
  return { port, secretKey: readSecretKey(keyFile) };
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
    loadBalancing: c.ROUTER_LOAD_BALANCING,
    adminPort: c.ROUTER_ADMIN_PORT,
    adminAddress: c.ROUTER_ADMIN_ADDRESS,
    reusePort: c.ROUTER_REUSE_PORT === 'true',
    trustedProxies: c.ROUTER_TRUSTED_PROXIES,
    appLogs: appLogSettings(c),
    listeners: c.ROUTER_LISTENERS,
    appLimits: {
      maxInFlight: c.ROUTER_APP_MAX_IN_FLIGHT,
      maxInFlightPerInstance: c.ROUTER_APP_MAX_IN_FLIGHT_PER_INSTANCE,
      maxQueued: c.ROUTER_APP_MAX_QUEUED, queueTimeoutMs: c.ROUTER_APP_QUEUE_TIMEOUT_MS, cutAboveUtilization: c.ROUTER_APP_CUT_UTILIZATION },
    https: httpsConfig(c.ROUTER_HTTPS_PORT, c.PAAS_SECRET_KEY_FILE),
    httpsPublicPort: c.ROUTER_HTTPS_PUBLIC_PORT,
  };
}
