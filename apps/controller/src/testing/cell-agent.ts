/**
 * The real cell agent (apps/cell/dist/main.js) in a process of its own on the fake runtime
 * (CELL_RUNTIME=fake: no runc, no network; its containers answer HTTP on their host ports and its
 * staging plays a buildpack, see apps/cell/src/cell-host.ts). Controller integration tests run it
 * instead of a hand-written cell. Spawned rather than imported: the controller may not import
 * apps/cell (Nx scope rules), and a process of its own is what a host runs.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { redisKeys } from '@paas/contracts';
import { freePort, pollUntil, StopPolling } from '@paas/local-services';
import { createRedisConnection, expireCellPresence, listLiveCells } from '@paas/redis';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
/** Host ports each agent may hand out (its fake containers listen on them). */
const PORTS_PER_CELL = 20;
/** Host ports of each agent's service instances (CELL_SERVICE_PORTS), right above its instances' range. */
const SERVICE_PORTS_PER_CELL = 10;

export interface CellAgentOptions {
  zone?: string;
  memoryMb?: number;
  maxContainers?: number;
  /**
   * Operator buildpacks to install (CELL_BUILDPACKS_DIR), by name: the fake runtime plays them as
   * apps/cell/src/fake-behaviours.ts says (`failing` fails every build that names it).
   */
  operatorBuildpacks?: readonly string[];
  /** CELL_USAGE_INTERVAL_MS (default the agent's, 5 s): how often it samples its instances' usage (fake-behaviours.ts fakeUsage). */
  usageIntervalMs?: number;
  /**
   * CELL_FAKE_JOURNAL: an absolute file the agent's fake runtime appends what it does to; give
   * several agents the same one to order what they did (readFakeJournal). The test removes it.
   */
  journal?: string;
}

/** One line of a fake runtime's journal (apps/cell/src/cell-host.ts journalLine). */
export interface FakeJournalLine {
  cell: string;
  what: 'start' | 'run' | 'run-end' | 'stop';
  container: string;
  appId?: string;
  processType?: string;
  exitCode?: number;
}

/** The journal file's lines so far, in the order the agents wrote them; none before the first. */
export async function readFakeJournal(path: string): Promise<FakeJournalLine[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FakeJournalLine);
}

/** A buildpack folder the catalog accepts (executable bin/detect and bin/compile); the fake runtime never runs them. */
async function installBuildpacks(dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    await mkdir(join(dir, name, 'bin'), { recursive: true });
    for (const script of ['detect', 'compile']) {
      const path = join(dir, name, 'bin', script);
      await writeFile(path, '#!/bin/sh\nexit 1\n');
      await chmod(path, 0o755);
    }
  }
}

/** One running agent. `stop` and `kill` are safe to call twice, and after the other. */
export interface CellAgentProcess {
  readonly id: string;
  readonly zone: string;
  /** SIGINT, as `npm start` stopping: its instances stop, it withdraws and exits; resolves once it exited and its data dir is gone. */
  stop(): Promise<void>;
  /** SIGKILL, as a host that died: no withdrawal (its presence expires), its instance records stay. */
  kill(): Promise<void>;
  /** SIGSTOP, as a host paused: no heartbeat, no work, no withdrawal; its presence lives out its TTL. `resume()` goes on. */
  pauseHeartbeat(): void;
  /**
   * Paused (as pauseHeartbeat) with its presence left to expire as if its last heartbeat had been
   * a whole TTL ago (Redis expires it within `afterMs`). `resume()` brings it back under the same id.
   */
  expire(afterMs?: number): Promise<void>;
  /** SIGCONT after pauseHeartbeat or expire: it heartbeats and works again; resolves once its presence is live. */
  resume(): Promise<void>;
}

/** Starts the agent `id` on the harness's Redis and prefix; resolves once its presence is live. */
export async function startCellAgent(
  h: { redisUrl: string; redisPrefix: string; internalToken: string },
  id: string,
  options: CellAgentOptions = {},
): Promise<CellAgentProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), `paas-cell-${id}-`));
  const portBase = await freePort();
  const tag = randomBytes(2).toString('hex');
  const zone = options.zone ?? 'z1';
  const buildpacksDir = join(dataDir, 'operator-buildpacks');
  await installBuildpacks(buildpacksDir, options.operatorBuildpacks ?? []);
  const child = spawn(process.execPath, [join(ROOT, 'apps', 'cell', 'dist', 'main.js')], {
    env: {
      PATH: process.env.PATH,
      CELL_RUNTIME: 'fake',
      CELL_ID: id,
      CELL_ZONE: zone,
      CELL_MEMORY_MB: String(options.memoryMb ?? 65_536),
      CELL_MAX_CONTAINERS: String(options.maxContainers ?? 100),
      CELL_DATA_DIR: dataDir,
      CELL_BUILDPACKS_DIR: buildpacksDir,
      ...(options.usageIntervalMs ? { CELL_USAGE_INTERVAL_MS: String(options.usageIntervalMs) } : {}),
      ...(options.journal ? { CELL_FAKE_JOURNAL: options.journal } : {}),
      CELL_BRIDGE: `fk${tag}`,
      CELL_SUBNET: '10.252.0.0/24',
      CELL_PORT_RANGE: `${portBase}-${Math.min(portBase + PORTS_PER_CELL - 1, 65_535)}`,
      // Service instances' host ports: the range above the instances' (freePort is below 40000), each cell its own.
      CELL_SERVICE_PORTS: `${portBase + PORTS_PER_CELL}-${portBase + PORTS_PER_CELL + SERVICE_PORTS_PER_CELL - 1}`,
      CELL_IPTABLES_CHAIN: `FK-${tag.toUpperCase()}`,
      CELL_CONTAINER_PREFIX: `fk${tag}`,
      REDIS_URL: h.redisUrl,
      PAAS_REDIS_PREFIX: h.redisPrefix,
      PAAS_INTERNAL_TOKEN: h.internalToken,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const redis = createRedisConnection(h.redisUrl, `test-watch-${id}`);
  const keys = redisKeys(h.redisPrefix);
  const end = async (signal: NodeJS.Signals) => {
    if (running()) {
      child.kill('SIGCONT'); // a paused agent handles no SIGINT
      child.kill(signal);
    }
    await exited;
    redis.disconnect();
    await rm(dataDir, { recursive: true, force: true });
  };
  const live = () =>
    pollUntil(`cell agent ${id} live`, async () => {
      if (!running()) throw new StopPolling(new Error(`cell agent ${id} exited (${child.exitCode}): ${stderr}`));
      return (await listLiveCells(redis, keys)).some((cell) => cell.id === id);
    }, { timeoutMs: 30_000 });
  await live().catch(async (error: unknown) => {
    await end('SIGKILL');
    throw error;
  });
  const pause = () => void (running() && child.kill('SIGSTOP'));
  return {
    id,
    zone,
    stop: () => end('SIGINT'),
    kill: () => end('SIGKILL'),
    pauseHeartbeat: pause,
    async expire(afterMs = 1) {
      pause();
      await expireCellPresence(redis, keys, id, afterMs);
    },
    async resume() {
      if (running()) child.kill('SIGCONT');
      await live();
    },
  };
}

/**
 * Makes the fake container serving `address` (an instance's address, as the API shows it) exit
 * now, as a crash would: status 1 by default, or killed by the OOM killer (`oom`). The fake
 * runtime's app answers `POST /__fake/exit` so (libs/runtime fake-app-server.ts, FAKE_APP_EXIT_PATH);
 * the agent then reports the crash in its own words.
 */
export async function crashFakeInstance(address: string, exit: { status?: number; oom?: boolean } = {}): Promise<void> {
  const query = new URLSearchParams({ status: String(exit.status ?? 1), ...(exit.oom ? { oom: '1' } : {}) });
  const res = await fetch(`http://${address}/__fake/exit?${query}`, { method: 'POST' });
  if (res.status !== 202) throw new Error(`the fake app at ${address} did not take the exit: HTTP ${res.status}`);
}
