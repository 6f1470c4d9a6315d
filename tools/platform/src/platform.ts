import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redisKeys, ROUTER_NODE_FLAGS } from '@paas/contracts';
import { createRedisConnection, listLiveCells } from '@paas/redis';
import { execFile } from 'node:child_process';
import { ensureCaDir, ensureSecretKey } from './secret-key';
import { promisify } from 'node:util';
import {
  SupervisedProcess,
  dataDirSecret,
  portOpen,
  postgresUrlOf,
  redisUrlOf,
  secureDataDir,
  startDataServices,
  enableTcpMigrateReq,
  pidAlive,
  pollUntil,
} from '@paas/local-services';

const run = promisify(execFile);

export interface CellNetwork {
  id: string;
  bridge: string;
  subnet: string;
  portRange: string;
  /** CELL_SERVICE_PORTS: host ports of the service instances the cell runs, apart from every app range. */
  servicePorts: string;
  iptablesChain: string;
  containerPrefix: string;
  /** CELL_ZONE of the cell (the cell's default when unset). */
  zone?: string;
  /**
   * Run the cell on another (simulated) host: inside the named network namespace, with
   * CELL_ADDRESS set to that host's address. Its bridge, veths and iptables rules then live in that
   * namespace; it reaches Redis and the controller at PlatformOptions.serviceAddress.
   */
  host?: { netns: string; address: string };
  /** CELL_METRICS_PORT: the cell serves Prometheus GET /metrics there, on its address (127.0.0.1, or host.address). */
  metricsPort?: number;
}

export interface PlatformOptions {
  /** The checkout: where the built components are. */
  rootDir: string;
  dataDir: string;
  controllerPort: number;
  routerPort: number;
  /**
   * ROUTER_HTTPS_PORT of every router process (shared with SO_REUSEPORT, as routerPort is): the
   * TLS listener, with the platform's own CA's wildcard certificate for the apps domain and the
   * certificates of the API. Unset: no TLS listener.
   */
  routerHttpsPort?: number;
  redisPort: number;
  postgresPort: number;
  redisPrefix: string;
  appsDomain: string;
  cells: CellNetwork[];
  /**
   * An address of this host that other hosts reach (besides 127.0.0.1): Redis also listens on
   * it, the controller listens on it instead of 127.0.0.1, and every component gets REDIS_URL and
   * CONTROLLER_URL with it. Needed when cells run on other hosts (CellNetwork.host).
   */
  serviceAddress?: string;
  onEvent?: (message: string) => void;
  /**
   * Router processes, each its own supervised process listening on routerPort (SO_REUSEPORT):
   * one that dies or restarts takes only its own in-flight requests. Default DEFAULT_ROUTER_PROCESSES.
   */
  routerProcesses?: number;
  /** The admin port (/health, /metrics) of each router process, one per process; default none. */
  routerAdminPorts?: number[];
  /** The operator's buildpacks folder (CELL_BUILDPACKS_DIR of every cell), tried before the built-ins. */
  buildpacksDir?: string;
  /** Extra environment of one cell, e.g. CELL_NPM_REGISTRY pointing at a registry on its gateway. */
  cellEnv?: (cell: CellNetwork) => Record<string, string>;
  /**
   * Extra environment of the controller, e.g. short PAAS_LEASE_TTL_MS for tests that kill it, or
   * the ACME and DNS settings (PAAS_ACME_DIRECTORY_URL, PAAS_ACME_CA_FILE, PAAS_DNS_RESOLVER, ...).
   */
  controllerEnv?: Record<string, string>;
}

export interface RunningPlatform {
  apiUrl: string;
  routerUrl: string;
  /** https://127.0.0.1:PORT when the routers have a TLS listener (routerHttpsPort). */
  routerHttpsUrl?: string;
  /** PAAS_SECRET_KEY_FILE of the controller and the routers: `<dataDir>/secret-key`. */
  secretKeyFile: string;
  /** The platform's own CA (PAAS_LOCAL_CA_DIR `<dataDir>/ca`): `ca.pem` is what clients trust, made by the controller at first boot. */
  caFile: string;
  /** REDIS_URL of the components, with the Redis password: never log it as it is (redactUrl). */
  redisUrl: string;
  /** DATABASE_URL of the controller, with the Postgres password: never log it as it is (redactUrl). */
  databaseUrl: string;
  adminToken: string;
  /** Supervised processes by name (`controller`, `router-1`, `router-2`, `cell-1`, ...), e.g. to kill one in a test. */
  processes: Map<string, SupervisedProcess>;
  /** The router processes, in order (`router-1`, ...). */
  routers: SupervisedProcess[];
  /**
   * Rolling restart of the router processes, one at a time: a new process starts beside the old
   * one on the same port, and once it listens with the route table loaded the old one drains
   * (stops accepting, finishes in flight, closes keep-alive connections with `connection: close`).
   * Rejects, leaving the rest as they are, if a new process is not ready in time.
   */
  restartRouters(onEvent?: (message: string) => void): Promise<void>;
  /** The cells' networks, as started. */
  cells: CellNetwork[];
  stop(): Promise<void>;
}

export class PlatformAlreadyRunning extends Error {}

/** Router processes a platform runs unless told otherwise: two, so that one can always serve. */
export const DEFAULT_ROUTER_PROCESSES = 2;

/** The message a router process sends once ready (apps/router/src/main.ts, RouterReadyMessage). */
const ROUTER_READY = 'paas-router:ready';

/**
 * Cell networks from an env file (`CELL_1_BRIDGE=...`, `CELL_1_SUBNET=...`, `CELL_1_PORT_RANGE=...`,
 * `CELL_1_SERVICE_PORTS=...`); cells the file does not describe get generated ones.
 */
export function cellNetworksFromEnvFile(text: string, tag: string, count: number): CellNetwork[] {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(\S+)\s*$/.exec(raw.replace(/#.*/, ''));
    if (match) values.set(match[1], match[2]);
  }
  return cellNetworks(tag, count, 244, 61000, 62000).map((generated, i) => ({
    ...generated,
    bridge: values.get(`CELL_${i + 1}_BRIDGE`) ?? generated.bridge,
    subnet: values.get(`CELL_${i + 1}_SUBNET`) ?? generated.subnet,
    portRange: values.get(`CELL_${i + 1}_PORT_RANGE`) ?? generated.portRange,
    servicePorts: values.get(`CELL_${i + 1}_SERVICE_PORTS`) ?? generated.servicePorts,
  }));
}

/** Service host ports each generated cell gets (CELL_SERVICE_PORTS), from the platform's service port base. */
export const SERVICE_PORTS_PER_CELL = 25;

/**
 * Cell networks that do not collide with another platform: distinct bridge, subnet, ports, chain.
 * Cell i gets 500 app ports from portBase + 500i and SERVICE_PORTS_PER_CELL service ports from
 * servicePortBase + SERVICE_PORTS_PER_CELL * i.
 */
export function cellNetworks(tag: string, count: number, subnetBase: number, portBase: number, servicePortBase: number): CellNetwork[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `cell-${i + 1}`,
    bridge: `${tag}-c${i + 1}`.slice(0, 15),
    subnet: `10.${subnetBase}.${i + 1}.0/24`,
    portRange: `${portBase + i * 500}-${portBase + i * 500 + 499}`,
    servicePorts: `${servicePortBase + i * SERVICE_PORTS_PER_CELL}-${servicePortBase + (i + 1) * SERVICE_PORTS_PER_CELL - 1}`,
    iptablesChain: `${tag.toUpperCase()}-C${i + 1}`.slice(0, 20),
    containerPrefix: `${tag}-c${i + 1}`,
  }));
}


/**
 * Starts a whole platform: private Redis and Postgres under dataDir, migrations, the controller,
 * the router and the cells, each a supervised process that is restarted when it dies.
 */
export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const say = options.onEvent ?? (() => undefined);
  const { dataDir, rootDir } = options;
  // The components' logs name tenants' apps and hosts: root's alone.
  await mkdir(join(dataDir, 'logs'), { recursive: true, mode: 0o700 });
  await chmod(join(dataDir, 'logs'), 0o700);
  // The data directory holds the platform's secrets (tokens, passwords, 0600): root's alone, but
  // the cells' containers run as unprivileged host uids (user namespaces) that must traverse
  // dataDir/cells/<id> to reach their rootfs: others may traverse these two, never list them.
  await secureDataDir(dataDir);
  await mkdir(join(dataDir, 'cells'), { recursive: true });
  await chmod(join(dataDir, 'cells'), 0o711);
  const pidFile = join(dataDir, 'platform.pid');
  const previous = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (previous && previous !== process.pid && pidAlive(previous)) {
    throw new PlatformAlreadyRunning(
      `a platform is already running from ${dataDir} (pid ${previous}): stop it with Ctrl-C (or kill ${previous}) first`,
    );
  }
  const routerCount = options.routerProcesses ?? DEFAULT_ROUTER_PROCESSES;
  if (!Number.isInteger(routerCount) || routerCount < 1) throw new Error(`routerProcesses must be a positive integer, got ${routerCount}`);
  const adminPorts = options.routerAdminPorts ?? [];
  if (adminPorts.length > 0 && adminPorts.length !== routerCount) {
    throw new Error(`${adminPorts.length} router admin ports for ${routerCount} router processes: give one per process`);
  }
  for (const [name, port] of [
    ['controller', options.controllerPort],
    ['router', options.routerPort],
    ...(options.routerHttpsPort ? [['router (https)', options.routerHttpsPort] as const] : []),
    ...adminPorts.map((p, i) => [`router-${i + 1} admin`, p] as const),
    ['redis', options.redisPort],
    ['postgres', options.postgresPort],
    ...options.cells.flatMap((cell) => (cell.metricsPort && !cell.host ? [[`${cell.id} metrics`, cell.metricsPort] as const] : [])),
  ] as const) {
    if (await portOpen(port)) {
      throw new PlatformAlreadyRunning(`port ${port} (for the ${name}) is already in use: stop what uses it or choose another port`);
    }
  }
  await writeFile(pidFile, String(process.pid));

  const processes = new Map<string, SupervisedProcess>();
  const node = process.execPath;
  const internalToken = await dataDirSecret(dataDir, 'internal-token');
  const secretKeyFile = await ensureSecretKey(dataDir);
  const caDir = await ensureCaDir(dataDir);
  const serviceHost = options.serviceAddress ?? '127.0.0.1';
  const apiUrl = `http://${serviceHost}:${options.controllerPort}`;
  const routerUrl = `http://127.0.0.1:${options.routerPort}`;
  const routerHttpsUrl = options.routerHttpsPort ? `https://127.0.0.1:${options.routerHttpsPort}` : undefined;
  const adminTokenFile = join(dataDir, 'admin-token');

  // Cells first, together (each stops its containers and removes its network), then the router
  // and the controller, then the data services.
  const stop = async () => {
    const names = [...processes.keys()];
    const stopAll = async (which: string[]) => {
      await Promise.all(which.map((name) => processes.get(name)?.stop()));
    };
    await stopAll(names.filter((n) => n.startsWith('cell-')));
    await stopAll(names.filter((n) => n.startsWith('router-') || n === 'controller'));
    await stopAll(names.filter((n) => n === 'redis' || n === 'postgres'));
    await rm(pidFile, { force: true });
  };

  try {
    // Redis with an ACL and Postgres with SCRAM, their passwords in the data directory (0600).
    // With a service address Redis also listens there: other hosts' cells reach it, with the password.
    const services = await startDataServices({
      rootDir,
      dataDir,
      redisPort: options.redisPort,
      postgresPort: options.postgresPort,
      redisAddresses: options.serviceAddress ? [options.serviceAddress] : [],
      onEvent: say,
    });
    processes.set('redis', services.redis);
    processes.set('postgres', services.postgres);
    const redisUrl = redisUrlOf(serviceHost, options.redisPort, services.redisLogin);
    const databaseUrl = postgresUrlOf('127.0.0.1', options.postgresPort, services.postgresLogin);
    say('redis and postgres are up');
    const baseEnv = {
      PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      REDIS_URL: redisUrl,
      PAAS_REDIS_PREFIX: options.redisPrefix,
      PAAS_INTERNAL_TOKEN: internalToken,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    };

    await run(node, [join(rootDir, 'apps', 'controller', 'dist', 'migrate.js')], { env: { ...baseEnv, DATABASE_URL: databaseUrl } });

    const controller = new SupervisedProcess(
      {
        name: 'controller',
        command: node,
        args: [join(rootDir, 'apps', 'controller', 'dist', 'main.js')],
        env: {
          ...baseEnv,
          CONTROLLER_PORT: String(options.controllerPort),
          CONTROLLER_HOST: serviceHost,
          CONTROLLER_URL: apiUrl,
          DATABASE_URL: databaseUrl,
          PAAS_BLOBSTORE_DIR: join(dataDir, 'blobstore'),
          PAAS_ADMIN_TOKEN_FILE: adminTokenFile,
          PAAS_APPS_DOMAIN: options.appsDomain,
          PAAS_ROUTER_URL: routerUrl.replace('127.0.0.1', options.appsDomain),
          PAAS_SECRET_KEY_FILE: secretKeyFile,
          PAAS_LOCAL_CA_DIR: caDir,
          // Domain verification fetches http://DOMAIN/.well-known/...: locally the routers listen on routerPort.
          PAAS_DOMAIN_VERIFY_HTTP_PORT: String(options.routerPort),
          ...options.controllerEnv,
        },
        logFile: join(dataDir, 'logs', 'controller.log'),
        restart: true,
      },
      say,
    );
    processes.set('controller', controller);
    controller.start();
    await pollUntil('the controller', async () => (await fetch(`${apiUrl}/health`)).ok, { timeoutMs: 60_000, intervalMs: 200 });

    // Queued connections of a router process that stops or dies move to another one (see
    // docs/operations.md): without it a rolling restart would reset the few waiting in its queue.
    const migrate = await enableTcpMigrateReq();
    if (migrate === 'set') say('set net.ipv4.tcp_migrate_req=1: connections queued at a router process that stops move to another');
    if (migrate === 'denied' || migrate === 'unsupported') say(`net.ipv4.tcp_migrate_req could not be set (${migrate}): a router restart may reset queued connections`);
    const routers: SupervisedProcess[] = [];
    for (let i = 0; i < routerCount; i++) {
      const name = `router-${i + 1}`;
      const router = new SupervisedProcess(
        {
          name,
          command: node,
          args: [...ROUTER_NODE_FLAGS, join(rootDir, 'apps', 'router', 'dist', 'main.js')],
          env: {
            ...baseEnv,
            ROUTER_PORT: String(options.routerPort),
            ROUTER_HOST: '0.0.0.0',
            ROUTER_REUSE_PORT: 'true',
            ROUTER_ADMIN_PORT: String(adminPorts[i] ?? 0),
            PAAS_SECRET_KEY_FILE: secretKeyFile,
            ...(options.routerHttpsPort ? { ROUTER_HTTPS_PORT: String(options.routerHttpsPort) } : {}),
          },
          logFile: join(dataDir, 'logs', `${name}.log`),
          restart: true,
          readyMessage: ROUTER_READY,
        },
        say,
      );
      processes.set(name, router);
      routers.push(router);
      router.start();
    }
    await Promise.all(routers.map((router) => router.whenReady(60_000)));

    const platformNetworks = [
      ...(options.serviceAddress && options.serviceAddress !== '127.0.0.1' ? [options.serviceAddress] : []),
      ...options.cells.flatMap((c) => (c.host ? [c.host.address] : [])),
    ];
    for (const cell of options.cells) {
      const cellMain = join(rootDir, 'apps', 'cell', 'dist', 'main.js');
      // nsenter joins only the network namespace: `ip netns exec` would also give the cell a mount
      // namespace of its own with a fresh /sys (no /sys/fs/cgroup for runc) whose mounts (container
      // netns, overlays) the host and a restarted cell would not see.
      // The cell fetches Node.js releases from the npm registry itself: it trusts the host's CA store
      // (as npm and the stack's Node do), also behind a TLS-inspecting proxy whose CA only the host has.
      const cellArgs = ['--use-system-ca', cellMain];
      const [command, args] = cell.host ? ['nsenter', [`--net=/run/netns/${cell.host.netns}`, node, ...cellArgs]] : [node, cellArgs];
      const proc = new SupervisedProcess(
        {
          name: cell.id,
          command,
          args,
          env: {
            ...baseEnv,
            CELL_ID: cell.id,
            CELL_ADDRESS: cell.host?.address ?? '127.0.0.1',
            ...(cell.zone ? { CELL_ZONE: cell.zone } : {}),
            CELL_DATA_DIR: join(dataDir, 'cells', cell.id),
            CELL_BRIDGE: cell.bridge,
            CELL_SUBNET: cell.subnet,
            CELL_PORT_RANGE: cell.portRange,
            CELL_SERVICE_PORTS: cell.servicePorts,
            CELL_IPTABLES_CHAIN: cell.iptablesChain,
            CELL_CONTAINER_PREFIX: cell.containerPrefix,
            // A user-namespace range of its own per cell of this platform (cells of two platforms
            // on one host share them).
            CELL_USERNS_HOST_ID: String(1_000_000 + options.cells.indexOf(cell) * 65_536),
            ...(cell.metricsPort ? { CELL_METRICS_PORT: String(cell.metricsPort) } : {}),
            // A cell on a host of its own serves metrics on that host's address (its management
            // address: its own containers never reach their host); a local one on loopback.
            ...(cell.host ? { CELL_METRICS_ADDRESS: cell.host.address } : {}),
            // Containers reach the router's public port (at their gateway, or at this host from another one), and
            // never the hosts of Redis, Postgres, the controller and the other cells.
            CELL_ROUTER_ADDRESS: `${cell.host ? serviceHost : '127.0.0.1'}:${options.routerPort}`,
            ...(platformNetworks.length ? { CELL_PLATFORM_NETWORKS: platformNetworks.join(',') } : {}),
            ...(options.buildpacksDir ? { CELL_BUILDPACKS_DIR: options.buildpacksDir } : {}),
            ...(options.cellEnv?.(cell) ?? {}),
          },
          logFile: join(dataDir, 'logs', `${cell.id}.log`),
          restart: true,
          stopTimeoutMs: 60_000,
          // The whole platform is stopping: no other cell to drain to, so stop at once (SIGINT).
          stopSignal: 'SIGINT',
        },
        say,
      );
      processes.set(cell.id, proc);
      proc.start();
    }
    const redisClient = createRedisConnection(redisUrl, 'platform-runner');
    try {
      await pollUntil(
        `${options.cells.length} cells to announce themselves`,
        async () => (await listLiveCells(redisClient, redisKeys(options.redisPrefix))).length >= options.cells.length,
        { timeoutMs: 120_000, intervalMs: 250 },
      );
    } finally {
      redisClient.disconnect();
    }
    await pollUntil('the admin token', async () => existsSync(adminTokenFile), { timeoutMs: 30_000 });
    const adminToken = (await readFile(adminTokenFile, 'utf8')).trim();
    const restartRouters = async (onEvent: (message: string) => void = say) => {
      for (const router of routers) {
        const old = router.pid;
        await router.replace(60_000);
        onEvent(`${router.spec.name} restarted: pid ${old ?? '-'} drained, pid ${router.pid} serves`);
      }
    };
    const https = { ...(routerHttpsUrl ? { routerHttpsUrl } : {}), secretKeyFile, caFile: join(caDir, 'ca.pem') };
    return { apiUrl, routerUrl, ...https, redisUrl, databaseUrl, adminToken, processes, routers, restartRouters, cells: options.cells, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
