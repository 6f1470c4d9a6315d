import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SERVICE_PORTS_PER_CELL, cellNetworks, startPlatform, type CellNetwork, type RunningPlatform } from '@paas/platform';
import type { SimulatedHosts } from './simulated-hosts';
import { freePort, pidAlive } from '@paas/local-services';
import { forgetPlatform, PLATFORM_RECORDS_DIR, recordPlatform, sweepAbandonedPlatforms } from './abandoned-platforms';

const run = promisify(execFile);
/** The checkout the test platform was built in. */
export const ROOT = resolve(__dirname, '..', '..', '..');


/** Where isolated platforms of every process on this machine claim their cell port blocks and subnets. */
const CLAIMS_DIR = PLATFORM_RECORDS_DIR;


/** Claims a name for this process: a file created exclusively, holding our pid; a dead owner's claim is taken over. */
async function claim(name: string): Promise<boolean> {
  const file = join(CLAIMS_DIR, name);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (owner && pidAlive(owner)) return false;
      await rm(file, { force: true });
    }
  }
  return false;
}

async function unclaim(names: string[]): Promise<void> {
  await Promise.all(names.map((name) => rm(join(CLAIMS_DIR, name), { force: true })));
}

/**
 * Cell port blocks (500 app ports from 40000, and SERVICE_PORTS_PER_CELL service ports from 60000
 * for the same block: 40 blocks end at 60999, below the local platform's 61000) and a subnet base (10.2xx.1.0/24, 10.2xx.2.0/24, ...)
 * that no other isolated platform on this machine holds and no interface uses: two of them that
 * shared a host port would DNAT each other's requests to the wrong app.
 */
async function claimCellResources(cells: number): Promise<{ subnetBase: number; portBase: number; servicePortBase: number; claims: string[] }> {
  await mkdir(CLAIMS_DIR, { recursive: true });
  const claims: string[] = [];
  try {
    const addresses = (await run('ip', ['-o', '-4', 'addr', 'show'])).stdout;
    let subnetBase: number | undefined;
    for (let attempt = 0; attempt < 200 && subnetBase === undefined; attempt++) {
      const base = 200 + Math.floor(Math.random() * 50);
      const used = Array.from({ length: cells }, (_, i) => ` 10.${base}.${i + 1}.`).some((p) => addresses.includes(p));
      if (!used && (await claim(`subnet-${base}`))) {
        claims.push(`subnet-${base}`);
        subnetBase = base;
      }
    }
    let portBlock: number | undefined;
    for (let attempt = 0; attempt < 200 && portBlock === undefined; attempt++) {
      const first = Math.floor(Math.random() * (40 - cells + 1));
      const mine: string[] = [];
      for (let block = first; block < first + cells; block++) {
        if (!(await claim(`ports-${block}`))) break;
        mine.push(`ports-${block}`);
      }
      if (mine.length === cells) {
        claims.push(...mine);
        portBlock = first;
      } else {
        await unclaim(mine);
      }
    }
    if (subnetBase === undefined || portBlock === undefined) throw new Error('no free cell subnet or port block for an isolated platform');
    return { subnetBase, portBase: 40_000 + portBlock * 500, servicePortBase: 60_000 + portBlock * SERVICE_PORTS_PER_CELL, claims };
  } catch (error) {
    await unclaim(claims);
    throw error;
  }
}

export interface TestPlatform extends RunningPlatform {
  tag: string;
  dataDir: string;
  routerPort: number;
  /** The routers' TLS listener (ROUTER_HTTPS_PORT), a free port of its own. */
  routerHttpsPort: number;
  /** https://HOST:routerHttpsPort/ (connect to 127.0.0.1 with `servername` HOST; trust `caFile`, the platform's own CA). */
  httpsUrl(host: string, path?: string): string;
  controllerPort: number;
  appsDomain: string;
  /** Stops every process (cells first, as Ctrl-C of `npm start` does) and starts them again on the same data and ports. */
  restart(): Promise<void>;
}

export interface IsolatedPlatformOptions {
  /** Names everything the platform creates (default: a fresh `pt<4 hex>`). */
  tag?: string;
  /**
   * Run cell i on simulated host i (createSimulatedHosts): in its netns, with its address; Redis
   * and the controller then also serve on the hosts' gateway address.
   */
  simulatedHosts?: SimulatedHosts;
  /** CELL_ZONE per cell, e.g. ['z1', 'z2', 'z3']. */
  zones?: string[];
  /** Extra environment of one cell (PlatformOptions.cellEnv). */
  cellEnv?: (cell: CellNetwork) => Record<string, string>;
  /** The operator's buildpacks folder (PlatformOptions.buildpacksDir). */
  buildpacksDir?: string;
  /** Router processes (PlatformOptions.routerProcesses); default DEFAULT_ROUTER_PROCESSES. */
  routerProcesses?: number;
  /** The admin port of each router process (PlatformOptions.routerAdminPorts), one per process; default none. */
  routerAdminPorts?: number[];
  /** Extra environment of the controller (PlatformOptions.controllerEnv). */
  controllerEnv?: Record<string, string>;
  /**
   * The routers' HTTP port, chosen by the caller (default: a free one): e.g. the port pebble's
   * HTTP-01 validation and the domain verification connect to, known before the platform starts.
   */
  routerPort?: number;
  /** ACME, DNS verification and renewal settings of the controller, e.g. against pebble (libs/testing pebble.ts). */
  acme?: AcmeSettings;
}

/** The controller's ACME and DNS settings (docs/https.md) in a test: each becomes its PAAS_ variable. */
export interface AcmeSettings {
  /** PAAS_ACME_DIRECTORY_URL, e.g. pebble's https://127.0.0.1:PORT/dir. */
  directoryUrl: string;
  /** PAAS_ACME_CA_FILE: the CA of the ACME server's own HTTPS (pebble's minica). */
  caFile?: string;
  /** PAAS_DNS_RESOLVER host:port (pebble-challtestsrv's DNS): TXT verification and the names' addresses. */
  dnsResolver?: string;
  /** PAAS_CERT_RENEW_BEFORE_S: renew this long before not_after (short-lived certificates in tests). */
  renewBeforeS?: number;
  /** PAAS_ACME_RETRY_BASE_S: the first retry's delay after a failure. */
  retryBaseS?: number;
  email?: string;
}

/** The controller's environment for `acme` (undefined fields left out). Pure. */
export function acmeEnv(acme: AcmeSettings | undefined): Record<string, string> {
  if (!acme) return {};
  const env: Record<string, string | undefined> = {
    PAAS_ACME_DIRECTORY_URL: acme.directoryUrl,
    PAAS_ACME_CA_FILE: acme.caFile,
    PAAS_DNS_RESOLVER: acme.dnsResolver,
    PAAS_CERT_RENEW_BEFORE_S: acme.renewBeforeS?.toString(),
    PAAS_ACME_RETRY_BASE_S: acme.retryBaseS?.toString(),
    PAAS_ACME_EMAIL: acme.email,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** A fresh tag for an isolated platform: `pt` and 4 hex digits. */
export function platformTag(): string {
  return `pt${randomBytes(2).toString('hex')}`;
}

/**
 * A whole platform of its own for one test file: its own ports, data directory, Redis prefix,
 * bridges, subnets, iptables chains and container prefix, so it never collides with `npm start`.
 */
export async function startIsolatedPlatform(cells = 2, options: IsolatedPlatformOptions = {}): Promise<TestPlatform> {
  const tag = options.tag ?? platformTag();
  // Whatever an earlier run whose runner was killed left behind goes first.
  await sweepAbandonedPlatforms();
  const hosts = options.simulatedHosts;
  if (hosts && hosts.hosts.length < cells) throw new Error(`${cells} cells need ${cells} simulated hosts, got ${hosts.hosts.length}`);
  if (cells > 40) throw new Error(`an isolated platform has at most 40 cells, not ${cells}`);
  const dataDir = await mkdtemp(join(tmpdir(), `paas-e2e-${tag}-`));
  const controllerPort = await freePort();
  const routerPort = options.routerPort ?? (await freePort());
  const routerHttpsPort = await freePort();
  const { subnetBase, portBase, servicePortBase, claims } = await claimCellResources(cells);
  await recordPlatform({ tag, pid: process.pid, dataDir });
  const metricsPorts: number[] = [];
  for (let i = 0; i < cells; i++) metricsPorts.push(await freePort());
  const platformOptions: Parameters<typeof startPlatform>[0] = {
    rootDir: ROOT,
    dataDir,
    controllerPort,
    routerPort,
    routerHttpsPort,
    redisPort: await freePort(),
    postgresPort: await freePort(),
    redisPrefix: tag,
    appsDomain: 'apps.localhost',
    cells: cellNetworks(tag, cells, subnetBase, portBase, servicePortBase).map((cell, i) => ({
      ...cell,
      metricsPort: metricsPorts[i],
      ...(options.zones?.[i] ? { zone: options.zones[i] } : {}),
      ...(hosts ? { host: { netns: hosts.hosts[i].netns, address: hosts.hosts[i].address } } : {}),
    })),
    ...(hosts ? { serviceAddress: hosts.gateway } : {}),
    ...(options.cellEnv ? { cellEnv: options.cellEnv } : {}),
    ...(options.buildpacksDir ? { buildpacksDir: options.buildpacksDir } : {}),
    ...(options.routerProcesses ? { routerProcesses: options.routerProcesses } : {}),
    ...(options.routerAdminPorts ? { routerAdminPorts: options.routerAdminPorts } : {}),
    ...(options.controllerEnv || options.acme ? { controllerEnv: { ...acmeEnv(options.acme), ...options.controllerEnv } } : {}),
  };
  let platform = await startPlatform(platformOptions).catch(async (error: unknown) => {
    await unclaim(claims);
    await forgetPlatform(tag);
    throw error;
  });
  const stop = async () => {
    try {
      await platform.stop();
    } finally {
      await unclaim(claims);
    }
  };
  const httpsUrl = (host: string, path = '/') => `https://${host}:${routerHttpsPort}${path}`;
  const testPlatform: TestPlatform = { ...platform, stop, restart, tag, dataDir, routerPort, routerHttpsPort, httpsUrl, controllerPort, appsDomain: 'apps.localhost' };
  // The whole platform stopped as `npm start`'s Ctrl-C stops it, then started again on the same
  // data directory and ports (what an operator's reboot does); the object then holds the new processes.
  async function restart(): Promise<void> {
    await platform.stop();
    platform = await startPlatform(platformOptions);
    Object.assign(testPlatform, { ...platform, stop, restart });
  }
  return testPlatform;
}

/** Stops the platform and removes its data; returns what it left behind on the host (should be nothing). */
export async function stopIsolatedPlatform(platform: TestPlatform | undefined): Promise<string[]> {
  if (!platform) return [];
  await platform.stop();
  const leftovers = await hostLeftovers(platform.tag);
  await rm(platform.dataDir, { recursive: true, force: true });
  await forgetPlatform(platform.tag);
  return leftovers;
}

/** Bridges, veths, netns, iptables chains and mounts named after the tag that still exist. */
export async function hostLeftovers(tag: string): Promise<string[]> {
  const found: string[] = [];
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout;
  for (const line of links.split('\n')) if (line.includes(tag)) found.push(`link: ${line.split(':')[1]?.trim()}`);
  const netns = (await run('ip', ['netns', 'list'])).stdout;
  for (const line of netns.split('\n')) if (line.includes(tag)) found.push(`netns: ${line}`);
  for (const table of ['nat', 'filter']) {
    const rules = (await run('iptables', ['-t', table, '-S'])).stdout;
    for (const line of rules.split('\n')) if (line.toLowerCase().includes(tag)) found.push(`iptables ${table}: ${line}`);
  }
  return found;
}

