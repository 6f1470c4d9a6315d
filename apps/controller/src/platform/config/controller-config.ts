import { isIP } from 'node:net';
import { z } from 'zod';
import { appLogEnvShape, appLogSettings, parseEnv } from '@paas/contracts';
import { tlsEnvShape, tlsSettings } from './tls-config';

const schema = z.object({
  CONTROLLER_PORT: z.coerce.number().int().min(1).max(65535).default(4000),
  CONTROLLER_HOST: z.string().default('127.0.0.1'),
  /** URL cells and git hooks use to reach this controller. */
  CONTROLLER_URL: z.url().optional(),
  DATABASE_URL: z.string().startsWith('postgresql://', { error: 'DATABASE_URL must be a postgresql:// URL' }),
  REDIS_URL: z.string().startsWith('redis://', { error: 'REDIS_URL must be a redis:// URL' }),
  PAAS_REDIS_PREFIX: z.string().regex(/^[a-z0-9-]+$/).default('paas'),
  /** Directory of the blobstore: git repositories, source packages, droplets. */
  PAAS_BLOBSTORE_DIR: z.string().startsWith('/', { error: 'PAAS_BLOBSTORE_DIR must be an absolute path' }),
  /** Shared secret of the controller, its cells and its git hooks. */
  PAAS_INTERNAL_TOKEN: z.string().min(32, { error: 'PAAS_INTERNAL_TOKEN must have at least 32 characters' }),
  /** Where the admin token is kept; created with a fresh token when missing. */
  PAAS_ADMIN_TOKEN_FILE: z.string().startsWith('/'),
  PAAS_APPS_DOMAIN: z.string().default('apps.localhost'),
  /** Public URL of the router, used in messages (e.g. http://%s.apps.localhost:8080). */
  PAAS_ROUTER_URL: z.string().default('http://127.0.0.1:8080'),
  /** How long a deploy waits for new instances to become healthy. */
  PAAS_START_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  /**
   * Droplets (and source packages) kept per app: those of its newest N releases, plus the current
   * one's. Older ones are deleted after each successful deployment; rollback reaches only these.
   * 5 as Cloud Foundry's default of staged droplets kept per app.
   */
  PAAS_RELEASES_KEPT: z.coerce
    .number({ error: 'PAAS_RELEASES_KEPT must be a whole number of releases, at least 1' })
    .int({ error: 'PAAS_RELEASES_KEPT must be a whole number of releases, at least 1' })
    .min(1, { error: 'PAAS_RELEASES_KEPT must be at least 1 (the current release is always kept)' })
    .max(1000, { error: 'PAAS_RELEASES_KEPT must be at most 1000' })
    .default(5),
  /**
   * A running push (build) and a running deployment hold a Redis lease of this many ms, renewed
   * every third of it by their controller. A build or deployment whose lease is gone (its
   * controller stopped) is ended FAILED by any replica's sweeper. 30 s in production.
   */
  PAAS_LEASE_TTL_MS: z.coerce
    .number({ error: 'PAAS_LEASE_TTL_MS must be a whole number of milliseconds' })
    .int({ error: 'PAAS_LEASE_TTL_MS must be a whole number of milliseconds' })
    .min(1000, { error: 'PAAS_LEASE_TTL_MS must be at least 1000 (the lease is renewed every third of it)' })
    .max(600_000, { error: 'PAAS_LEASE_TTL_MS must be at most 600000 (10 minutes)' })
    .default(30_000),
  /** How often each replica looks for builds and deployments whose lease is gone. 15 s in production. */
  PAAS_LEASE_SWEEP_INTERVAL_MS: z.coerce
    .number({ error: 'PAAS_LEASE_SWEEP_INTERVAL_MS must be a whole number of milliseconds' })
    .int({ error: 'PAAS_LEASE_SWEEP_INTERVAL_MS must be a whole number of milliseconds' })
    .min(100, { error: 'PAAS_LEASE_SWEEP_INTERVAL_MS must be at least 100' })
    .max(600_000, { error: 'PAAS_LEASE_SWEEP_INTERVAL_MS must be at most 600000 (10 minutes)' })
    .default(15_000),
  /**
   * The convergence leader's periodic pass (restarts, scale, drains). A cell whose presence
   * expires starts a pass at once besides (the presence watch), whatever this is.
   */
  PAAS_CONVERGE_INTERVAL_MS: z.coerce
    .number({ error: 'PAAS_CONVERGE_INTERVAL_MS must be a whole number of milliseconds' })
    .int({ error: 'PAAS_CONVERGE_INTERVAL_MS must be a whole number of milliseconds' })
    .min(100, { error: 'PAAS_CONVERGE_INTERVAL_MS must be at least 100' })
    .max(600_000, { error: 'PAAS_CONVERGE_INTERVAL_MS must be at most 600000 (10 minutes)' })
    .default(2_000),
  /**
   * When set, GET /metrics (Prometheus) asks for "Authorization: Bearer <this>"; unset, it is
   * open (it lists counts and route templates, no names and no secrets).
   */
  CONTROLLER_METRICS_TOKEN: z.string().min(16, { error: 'CONTROLLER_METRICS_TOKEN must have at least 16 characters' }).optional(),
  /**
   * How often the convergence leader makes a scheduled backup of each managed service instance
   * (its newest backup older than this): daily by default. Tests set a few seconds.
   */
  SERVICE_BACKUP_INTERVAL_S: z.coerce
    .number({ error: 'SERVICE_BACKUP_INTERVAL_S must be a whole number of seconds' })
    .int({ error: 'SERVICE_BACKUP_INTERVAL_S must be a whole number of seconds' })
    .min(1, { error: 'SERVICE_BACKUP_INTERVAL_S must be at least 1' })
    .max(31_536_000, { error: 'SERVICE_BACKUP_INTERVAL_S must be at most 31536000 (a year)' })
    .default(86_400),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  /** The dashboard's build served at / (default: apps/dashboard/dist of this checkout). */
  PAAS_DASHBOARD_DIR: z.string().startsWith('/', { error: 'PAAS_DASHBOARD_DIR must be an absolute path' }).optional(),
  /** Origins of dashboards served elsewhere that may call /v1 from a browser (CORS), comma-separated: https://ops.example.com */
  PAAS_DASHBOARD_ORIGINS: z
    .string()
    .regex(/^(https?:\/\/[^/,\s]+)(,https?:\/\/[^/,\s]+)*$/, { error: 'PAAS_DASHBOARD_ORIGINS must be comma-separated origins such as https://ops.example.com (no path)' })
    .optional(),
  /**
   * Own domains (docs/https.md): the DNS server (IP:port) asked for TXT verification records and
   * for the address of a domain checked over HTTP; unset: the system's resolver, and DNS
   * verification refused. '' is unset.
   */
  PAAS_DNS_RESOLVER: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .refine((v) => dnsServerHost(v) !== undefined, { error: 'PAAS_DNS_RESOLVER must be the IP:port of a DNS server, e.g. 127.0.0.1:53 or [::1]:53' })
      .optional(),
  ),
  /** The port the controller asks http://<domain>/.well-known/paas-domain-verification/ on: the routers' public HTTP port (80; locally the router's port). */
  PAAS_DOMAIN_VERIFY_HTTP_PORT: z.coerce
    .number({ error: 'PAAS_DOMAIN_VERIFY_HTTP_PORT must be a port number' })
    .int({ error: 'PAAS_DOMAIN_VERIFY_HTTP_PORT must be a port number' })
    .min(1, { error: 'PAAS_DOMAIN_VERIFY_HTTP_PORT must be from 1 to 65535' })
    .max(65535, { error: 'PAAS_DOMAIN_VERIFY_HTTP_PORT must be from 1 to 65535' })
    .default(80),
  /** App logs: lines kept per app and idle expiry of the streams the controller writes to (see docs/logs.md). */
  ...appLogEnvShape,
  /** HTTPS: the secret key, certificates, ACME, the local CA (tls-config.ts). */
  ...tlsEnvShape,
});

/** The IP of `IP:port` or `[IPv6]:port` (port 1-65535), else undefined. */
function dnsServerHost(value: string): string | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:\]]+)):(\d{1,5})$/.exec(value);
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) return undefined;
  const ip = m[1] ?? m[2];
  return isIP(ip) ? ip : undefined;
}

export type ControllerConfig = ReturnType<typeof loadControllerConfig>;
export const CONTROLLER_CONFIG = Symbol('CONTROLLER_CONFIG');

/** Parses the environment once at boot; a bad value fails the boot with the variable named. */
export function loadControllerConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = parseEnv(schema, env, 'controller');
  return {
    port: c.CONTROLLER_PORT,
    host: c.CONTROLLER_HOST,
    url: c.CONTROLLER_URL ?? `http://127.0.0.1:${c.CONTROLLER_PORT}`,
    databaseUrl: c.DATABASE_URL,
    redisUrl: c.REDIS_URL,
    redisPrefix: c.PAAS_REDIS_PREFIX,
    blobstoreDir: c.PAAS_BLOBSTORE_DIR,
    internalToken: c.PAAS_INTERNAL_TOKEN,
    adminTokenFile: c.PAAS_ADMIN_TOKEN_FILE,
    appsDomain: c.PAAS_APPS_DOMAIN,
    routerUrl: c.PAAS_ROUTER_URL,
    startTimeoutMs: c.PAAS_START_TIMEOUT_MS,
    releasesKept: c.PAAS_RELEASES_KEPT,
    leases: { ttlMs: c.PAAS_LEASE_TTL_MS, sweepIntervalMs: c.PAAS_LEASE_SWEEP_INTERVAL_MS },
    convergeIntervalMs: c.PAAS_CONVERGE_INTERVAL_MS,
    metricsToken: c.CONTROLLER_METRICS_TOKEN,
    serviceBackupIntervalMs: c.SERVICE_BACKUP_INTERVAL_S * 1000,
    logLevel: c.LOG_LEVEL,
    dashboardDir: c.PAAS_DASHBOARD_DIR,
    dashboardOrigins: c.PAAS_DASHBOARD_ORIGINS?.split(',') ?? [],
    appLogs: appLogSettings(c),
    domainVerification: { dnsResolver: c.PAAS_DNS_RESOLVER, httpPort: c.PAAS_DOMAIN_VERIFY_HTTP_PORT },
    tls: tlsSettings(c),
  };
}
