import { z } from 'zod';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { appLogEnvShape, appLogSettings, destinationProblem, parseEnv } from '@paas/contracts';

const ipv4 = (name: string) => z.string().refine((v) => isIP(v) === 4, { error: `${name} must be an IPv4 address like 127.0.0.1` });

/** `low-high`, both ports from 1024 to 65535, low <= high. */
const portRange = (name: string, example: string) =>
  z.string().refine(
    (v) => {
      const match = /^(\d{1,5})-(\d{1,5})$/.exec(v);
      if (!match) return false;
      const [low, high] = [Number(match[1]), Number(match[2])];
      return low >= 1024 && high <= 65535 && low <= high;
    },
    { error: `${name} must be a port range like ${example} (ports 1024-65535, the low one first)` },
  );
const rangeOf = (v: string) => v.split('-').map(Number) as [number, number];

const schema = z.object({
  CELL_ID: z.string().regex(/^[a-z0-9-]{1,20}$/, { error: 'CELL_ID must be 1-20 characters of a-z, 0-9 and "-"' }),
  /** Address other hosts (router, controller) reach this cell's host ports on. */
  CELL_ADDRESS: z.string().default('127.0.0.1'),
  CELL_ZONE: z.string().default('z1'),
  CELL_MEMORY_MB: z.coerce.number().int().positive().default(8192),
  CELL_MAX_CONTAINERS: z.coerce.number().int().positive().default(50),
  CELL_DATA_DIR: z.string().startsWith('/', { error: 'CELL_DATA_DIR must be an absolute path' }),
  CELL_BRIDGE: z.string().regex(/^[a-z0-9-]{1,15}$/, { error: 'CELL_BRIDGE must be an interface name of at most 15 characters' }),
  CELL_SUBNET: z.string().regex(/^\d+\.\d+\.\d+\.0\/24$/, { error: 'CELL_SUBNET must be a /24 like 10.244.1.0/24' }),
  CELL_PORT_RANGE: portRange('CELL_PORT_RANGE', '61000-61999').default('61000-61999'),
  /**
   * Host ports of the service instances this cell runs (backing services, docs/services.md): each
   * gets one for good when first started. Apart from CELL_PORT_RANGE; cells on one host take
   * ranges of their own. The default lies beside the apps' default and above Linux's ephemeral
   * ports (32768-60999), where no outgoing connection or test server takes it.
   */
  CELL_SERVICE_PORTS: portRange('CELL_SERVICE_PORTS', '62000-62099').default('62000-62099'),
  CELL_IPTABLES_CHAIN: z.string().regex(/^[A-Z0-9-]{1,20}$/, { error: 'CELL_IPTABLES_CHAIN must be 1-20 characters of A-Z, 0-9, "-"' }),
  CELL_CONTAINER_PREFIX: z.string().regex(/^[a-z0-9-]{1,24}$/),
  /**
   * Host uid (and gid) of container root: the cell's containers run in a user namespace that maps
   * their ids 0..65535 to this and the 65535 above it (vcap, 2000, is this + 2000). Cells on one
   * host should take ranges of their own, 65536 apart.
   */
  CELL_USERNS_HOST_ID: z.coerce
    .number()
    .int()
    .min(100_000, { error: 'CELL_USERNS_HOST_ID must be at least 100000 (host users live below), e.g. 1000000' })
    .max(0xffff_fffe - 65_535, { error: 'CELL_USERNS_HOST_ID leaves no room for 65536 ids below 4294967294' })
    .default(1_000_000),
  /**
   * The container runtime: `runc` (real containers; needs root) or `fake` (runs nothing, no network:
   * for tests of the agent and of the controller against it; see fakeHost in cell-host.ts).
   */
  CELL_RUNTIME: z.enum(['runc', 'fake'], { error: 'CELL_RUNTIME must be runc or fake' }).default('runc'),
  /**
   * With CELL_RUNTIME=fake: a file the fake runtime appends each container start, run, run end
   * and stop to (one JSON line each, see journalLine in cell-host.ts), for tests that order what
   * several cells did. Ignored by the runc runtime.
   */
  CELL_FAKE_JOURNAL: z.string().startsWith('/', { error: 'CELL_FAKE_JOURNAL must be an absolute path' }).optional(),
  /** Stop every container and remove the bridge and rules on SIGTERM (local platform), instead of leaving them for re-adoption. */
  CELL_CLEANUP_ON_EXIT: z.enum(['true', 'false']).default('true'),
  REDIS_URL: z.string().startsWith('redis://', { error: 'REDIS_URL must be a redis:// URL' }),
  PAAS_REDIS_PREFIX: z.string().regex(/^[a-z0-9-]+$/).default('paas'),
  PAAS_INTERNAL_TOKEN: z.string().min(32),
  PAAS_START_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  /** How long a SIGTERM'd cell waits for its instances to be moved elsewhere before it stops anyway. */
  CELL_DRAIN_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  /** The platform's buildpacks folder: each subdirectory with bin/detect and bin/compile is tried before the built-ins. */
  CELL_BUILDPACKS_DIR: z.string().startsWith('/', { error: 'CELL_BUILDPACKS_DIR must be an absolute path' }).optional(),
  /** The npm registry staging uses (npm_config_registry), for packages and for engines.node's Node binaries. */
  CELL_NPM_REGISTRY: z.url({ protocol: /^https?$/, error: 'CELL_NPM_REGISTRY must be an http(s) URL like https://registry.npmjs.org/' }).default('https://registry.npmjs.org/'),
  /** How many Node.js versions (engines.node) the cell keeps downloaded, the most recently used. */
  CELL_NODE_VERSIONS_KEEP: z.coerce.number().int().positive().default(3),
  /** Port of the cell's Prometheus server (GET /metrics); 0 (the default) runs none. */
  CELL_METRICS_PORT: z.coerce.number().int().min(0).max(65535, { error: 'CELL_METRICS_PORT must be a port number (0 = off)' }).default(0),
  /**
   * Address the metrics server listens on: loopback by default, or a management address no
   * container can reach. CELL_METRICS_HOST is its older name.
   */
  CELL_METRICS_ADDRESS: ipv4('CELL_METRICS_ADDRESS').optional(),
  CELL_METRICS_HOST: ipv4('CELL_METRICS_HOST').optional(),
  /**
   * The platform's own hosts and networks, comma-separated addresses or CIDRs (the API, Redis,
   * Postgres, the other cells, the routers' admin ports): no container reaches them, whatever its
   * security groups allow. The cell's own host is always closed to containers.
   */
  CELL_PLATFORM_NETWORKS: z
    .string()
    .default('')
    .superRefine((value, ctx) => {
      for (const item of value.split(',').map((v) => v.trim()).filter(Boolean)) {
        const problem = destinationProblem(item) ?? (item.includes('-') ? `"${item}" must be an address or a CIDR, not a range` : undefined);
        if (problem) ctx.addIssue({ code: 'custom', message: `CELL_PLATFORM_NETWORKS: ${problem}` });
      }
    }),
  /** Where containers reach the router's public port (`ip:port`; a 127.x address means this host, reached at the bridge gateway). Unset: only as the security groups allow. */
  CELL_ROUTER_ADDRESS: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/, { error: 'CELL_ROUTER_ADDRESS must be ip:port like 127.0.0.1:8080' })
    .refine((v) => isIP(v.split(':')[0]!) === 4 && Number(v.split(':')[1]) >= 1 && Number(v.split(':')[1]) <= 65535, {
      error: 'CELL_ROUTER_ADDRESS must be ip:port like 127.0.0.1:8080',
    })
    .optional(),
  /** How often each instance's CPU, memory and disk usage is sampled and written to its record. */
  CELL_USAGE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(500, { error: 'CELL_USAGE_INTERVAL_MS must be at least 500 (ms between usage samples)' })
    .default(5_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  /** App logs: lines kept per app, idle expiry, and the per-app rate limit of instance output (see docs/logs.md). */
  ...appLogEnvShape,
}).superRefine((c, ctx) => {
  const [apps, services] = [rangeOf(c.CELL_PORT_RANGE), rangeOf(c.CELL_SERVICE_PORTS)];
  if (apps[0] <= services[1] && services[0] <= apps[1]) {
    ctx.addIssue({
      code: 'custom',
      path: ['CELL_SERVICE_PORTS'],
      message: `CELL_SERVICE_PORTS ${c.CELL_SERVICE_PORTS} overlaps CELL_PORT_RANGE ${c.CELL_PORT_RANGE}: give the services a range of their own`,
    });
  }
});

export type CellConfig = ReturnType<typeof loadCellConfig>;

/** Parses the environment once at boot; a bad value fails the boot with the variable named. */
export function loadCellConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = parseEnv(schema, env, 'cell');
  return {
    id: c.CELL_ID,
    address: c.CELL_ADDRESS,
    zone: c.CELL_ZONE,
    memoryMb: c.CELL_MEMORY_MB,
    maxContainers: c.CELL_MAX_CONTAINERS,
    dataDir: c.CELL_DATA_DIR,
    bridge: c.CELL_BRIDGE,
    subnet: c.CELL_SUBNET,
    portRange: rangeOf(c.CELL_PORT_RANGE),
    servicePortRange: rangeOf(c.CELL_SERVICE_PORTS),
    /** The service instances' registry (one JSON each, root's alone) and volumes (docs/services.md). */
    servicesDir: join(c.CELL_DATA_DIR, 'services'),
    iptablesChain: c.CELL_IPTABLES_CHAIN,
    containerPrefix: c.CELL_CONTAINER_PREFIX,
    idMapping: { hostId: c.CELL_USERNS_HOST_ID, size: 65_536 },
    runtime: c.CELL_RUNTIME,
    fakeJournal: c.CELL_FAKE_JOURNAL,
    cleanupOnExit: c.CELL_CLEANUP_ON_EXIT === 'true',
    redisUrl: c.REDIS_URL,
    redisPrefix: c.PAAS_REDIS_PREFIX,
    internalToken: c.PAAS_INTERNAL_TOKEN,
    startTimeoutMs: c.PAAS_START_TIMEOUT_MS,
    drainTimeoutMs: c.CELL_DRAIN_TIMEOUT_MS,
    buildpacksDir: c.CELL_BUILDPACKS_DIR,
    npmRegistry: c.CELL_NPM_REGISTRY,
    nodeVersionsToKeep: c.CELL_NODE_VERSIONS_KEEP,
    metricsPort: c.CELL_METRICS_PORT,
    metricsHost: c.CELL_METRICS_ADDRESS ?? c.CELL_METRICS_HOST ?? '127.0.0.1',
    platformNetworks: c.CELL_PLATFORM_NETWORKS.split(',').map((v) => v.trim()).filter(Boolean),
    routerAddress: c.CELL_ROUTER_ADDRESS
      ? { host: c.CELL_ROUTER_ADDRESS.split(':')[0]!, port: Number(c.CELL_ROUTER_ADDRESS.split(':')[1]) }
      : undefined,
    usageIntervalMs: c.CELL_USAGE_INTERVAL_MS,
    logLevel: c.LOG_LEVEL,
    appLogs: appLogSettings(c),
  };
}
