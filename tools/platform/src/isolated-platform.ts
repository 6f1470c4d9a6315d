import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { cellNetworks, startPlatform, type RunningPlatform } from './platform';
import { portOpen } from '@paas/local-services';

const run = promisify(execFile);
/** The checkout the platform tools were built in. */
export const ROOT = resolve(__dirname, '..', '..', '..');

async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if (!(await portOpen(port))) return port;
  }
  throw new Error('no free port found');
}

export interface TestPlatform extends RunningPlatform {
  tag: string;
  dataDir: string;
  routerPort: number;
  controllerPort: number;
  appsDomain: string;
}

/**
 * A whole platform of its own for one test file: its own ports, data directory, Redis prefix,
 * bridges, subnets, iptables chains and container prefix, so it never collides with `npm start`.
 */
export async function startIsolatedPlatform(cells = 2): Promise<TestPlatform> {
  const tag = `pt${randomBytes(2).toString('hex')}`;
  const dataDir = await mkdtemp(join(tmpdir(), `paas-e2e-${tag}-`));
  const controllerPort = await freePort();
  const routerPort = await freePort();
  const platform = await startPlatform({
    rootDir: ROOT,
    dataDir,
    controllerPort,
    routerPort,
    redisPort: await freePort(),
    postgresPort: await freePort(),
    redisPrefix: tag,
    appsDomain: 'apps.localhost',
    cells: cellNetworks(tag, cells, 200 + Math.floor(Math.random() * 50), 40_000 + Math.floor(Math.random() * 40) * 500),
  });
  return { ...platform, tag, dataDir, routerPort, controllerPort, appsDomain: 'apps.localhost' };
}

/** Stops the platform and removes its data; returns what it left behind on the host (should be nothing). */
export async function stopIsolatedPlatform(platform: TestPlatform | undefined): Promise<string[]> {
  if (!platform) return [];
  await platform.stop();
  const leftovers = await hostLeftovers(platform.tag);
  await rm(platform.dataDir, { recursive: true, force: true });
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

