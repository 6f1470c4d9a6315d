import { readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupAll, releaseLayerImage, type RuncRuntimeConfig } from '@paas/runtime';
import { CELL_RUNTIME_RECORD } from '@paas/contracts';
import { pidAlive } from '@paas/local-services';
import { removeSimulatedHostsOf } from './simulated-hosts';

/**
 * Isolated platforms (tests, benches) record themselves here while they run, beside their claims
 * of cell subnets and port blocks, so that one whose runner was killed from outside (SIGKILL, a
 * CI timeout) is swept by the next run instead of living on: its processes, containers, bridges,
 * iptables chains and data directory.
 */
export const PLATFORM_RECORDS_DIR = '/run/paas-isolated-platforms';

/** What a running isolated platform leaves on the host: the runner's pid and its data directory (unique, under the tmp dir). */
export interface PlatformRecord {
  tag: string;
  /** The process that started the platform; once it is gone, nothing stops the platform any more. */
  pid: number;
  dataDir: string;
}

const recordFile = (tag: string) => join(PLATFORM_RECORDS_DIR, `platform-${tag}.json`);

export async function recordPlatform(record: PlatformRecord): Promise<void> {
  await writeFile(recordFile(record.tag), JSON.stringify(record), { mode: 0o600 });
}

export async function forgetPlatform(tag: string): Promise<void> {
  await rm(recordFile(tag), { force: true });
}


/**
 * Pids (other than ours) of the platform's components and their children: those whose command line
 * or environment names its data dir (Postgres, the controller, the cells), whose working directory
 * is in it (Redis), or whose environment carries its Redis prefix, the tag (the router).
 */
async function processesOf(record: PlatformRecord): Promise<number[]> {
  const found: number[] = [];
  const prefix = `PAAS_REDIS_PREFIX=${record.tag}`;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const read = (name: string) => readFile(`/proc/${entry}/${name}`, 'utf8').catch(() => '');
    const parts = `${await read('cmdline')}\0${await read('environ')}`.split('\0');
    // Redis rewrites its command line and has no such environment, but works in its dir below the data dir.
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd.startsWith(record.dataDir) || parts.some((part) => part.includes(record.dataDir) || part === prefix)) found.push(Number(entry));
  }
  return found;
}

async function killAll(record: PlatformRecord): Promise<void> {
  const dataDir = record.dataDir;
  for (let round = 0; round < 50; round++) {
    const pids = await processesOf(record);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`processes of ${dataDir} survive SIGKILL: ${(await processesOf(record)).join(', ')}`);
}

/**
 * Sweeps every recorded platform whose runner is dead: kills its processes (controller, router,
 * cells, Redis, Postgres: pids it started, found by its unique data dir and its tag), removes each cell's containers, mounts, network and chains (cleanupAll with the runtime
 * config the cell recorded in its data dir), its service volumes, and its simulated hosts, if any, then the data dir and the record, and drops claims of
 * subnets and port blocks whose owner is dead. Platforms whose runner lives (another test run, a
 * bench) are left alone. Returns the tags swept.
 */
export async function sweepAbandonedPlatforms(): Promise<string[]> {
  const names = await readdir(PLATFORM_RECORDS_DIR).catch(() => [] as string[]);
  const swept: string[] = [];
  for (const name of names.filter((n) => /^platform-.+\.json$/.test(n))) {
    const record = JSON.parse(await readFile(join(PLATFORM_RECORDS_DIR, name), 'utf8').catch(() => 'null')) as PlatformRecord | null;
    if (!record || pidAlive(record.pid)) continue;
    if (!record.dataDir.includes(record.tag)) continue; // not a data dir of ours: never touch it
    await killAll(record);
    const cellsDir = join(record.dataDir, 'cells');
    for (const cell of await readdir(cellsDir).catch(() => [] as string[])) {
      const text = await readFile(join(cellsDir, cell, CELL_RUNTIME_RECORD), 'utf8').catch(() => undefined);
      if (text) await cleanupAll(JSON.parse(text) as RuncRuntimeConfig);
      // Its service instances' volumes (docs/services.md) are loop mounts in the data dir: gone before it is removed.
      const services = join(cellsDir, cell, 'services');
      for (const image of await readdir(join(services, 'volumes')).catch(() => [] as string[])) {
        await releaseLayerImage(join(services, 'volumes', image), join(services, 'mounts', image.replace(/\.img$/, ''))).catch(() => undefined);
      }
    }
    // A platform on simulated hosts: their namespaces take the cells' bridges and rules along.
    await removeSimulatedHostsOf(record.tag).catch((error: unknown) => console.warn(`sweeping ${record.tag}: ${String(error)}`));
    await rm(record.dataDir, { recursive: true, force: true });
    await forgetPlatform(record.tag);
    swept.push(record.tag);
  }
  // Claims of cell subnets and port blocks (a pid each) whose owner is gone.
  for (const name of names.filter((n) => /^(subnet|ports)-\d+$/.test(n))) {
    const owner = Number((await readFile(join(PLATFORM_RECORDS_DIR, name), 'utf8').catch(() => '')).trim());
    if (owner && !pidAlive(owner)) await rm(join(PLATFORM_RECORDS_DIR, name), { force: true });
  }
  return swept;
}
