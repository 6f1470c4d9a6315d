/**
 * The LogShipper with a real runc container (as root) and a real redis-server of its own: the
 * container's stdout and stderr reach its app's stream tagged APP/PROC/WEB/0 OUT and ERR, with
 * lifecycle lines tagged CELL/0; after an agent "restart" (the first shipper and its Redis
 * connection dropped without a goodbye, the container re-adopted by a new runtime), shipping
 * resumes from the checkpoint: every line exactly once, in order. `finish` ships the rest and
 * forgets the instance. With the InstanceManager: the lifecycle lines of an instance that
 * crashes, its last stdout and stderr lines before the crash line and in its reason.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { redisKeys, type LogEntry, type StartInstanceJob } from '@paas/contracts';
import { freePort, redisLogin, redisUrlOf, writeRedisAcl, pollUntil } from '@paas/local-services';
import { AppLogWriter, createRedisConnection, readRecentAppLogs } from '@paas/redis';
import { cleanupAll, ensureStack, RuncRuntime, VCAP_GID, VCAP_UID, type RuncRuntimeConfig, testRuntimeConfig } from '@paas/runtime';
import { loadCellConfig } from './config';
import type { DropletCache } from './droplet-cache';
import { InstanceManager } from './instance-manager';
import { LogShipper, outputFiles } from './log-shipper';

const suffix = randomBytes(2).toString('hex');
const name = `ls${suffix}`;
const portBase = 30000 + randomInt(0, 300) * 100;
const exists = (path: string) => stat(path).then(() => true, () => false);

/** Prints `tick N` every 50 ms on stdout and `warn N` on stderr every 5th tick, forever. */
const TICKER = 'i=0; while true; do echo "tick $i"; if [ $((i % 5)) -eq 0 ]; then echo "warn $i" >&2; fi; i=$((i+1)); sleep 0.05; done';

describe('LogShipper (real runc container, real Redis)', () => {
  let tmp: string;
  let config: RuncRuntimeConfig;
  let redisServer: ChildProcess;
  let redisUrl: string;
  let redis: Redis;
  const keys = redisKeys(`ls${suffix}`);
  const logger = pino({ level: 'silent' });
  const instance = { instanceId: `i${suffix}`, appId: `app-${suffix}`, processType: 'web', index: 0 };

  const shipperOn = (conn: Redis, logDir = join(tmp, 'logs'), cellId = 'cell-t') => {
    const writer = new AppLogWriter(conn, keys, {
      settings: { maxLines: 100_000, ttlSeconds: 600 },
      rateLimit: { ratePerSecond: 10_000, burst: 10_000 },
      markerSource: 'CELL/0',
      markerWhere: 'cell test',
      flushIntervalMs: 50,
    });
    const shipper = new LogShipper(writer, conn, keys, logger, { logDir, cellId, pollMs: 50 });
    return { writer, shipper };
  };
  const all = () => readRecentAppLogs(redis, keys, instance.appId, 100_000);
  const numbers = (entries: LogEntry[], word: string) =>
    entries.filter((e) => e.text.startsWith(`${word} `)).map((e) => Number(e.text.slice(word.length + 1)));

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-log-shipper-it-'));
    await mkdir(join(tmp, 'logs'));
    const port = await freePort();
    const login = await redisLogin(tmp);
    const acl = await writeRedisAcl(tmp, login);
    redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp, '--aclfile', acl], { stdio: 'ignore' });
    redisUrl = redisUrlOf('127.0.0.1', port, login);
    redis = createRedisConnection(redisUrl, 'log-shipper-test');
    await pollUntil('redis-server', async () => (await redis.ping()) === 'PONG', { timeoutMs: 10_000 });
    config = testRuntimeConfig(name, tmp, portBase);
    await ensureStack(config.stackDir);
    await mkdir(join(tmp, 'empty-layer'));
  });

  after(async () => {
    try {
      await cleanupAll(config);
    } finally {
      redis?.disconnect();
      redisServer?.kill('SIGKILL');
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('ships stdout and stderr with their tags, resumes after a restart without repeating or skipping, and finishes', async () => {
    const files = outputFiles(join(tmp, 'logs'), instance.instanceId);
    const containerId = `${name}-${instance.instanceId}`;

    // The first agent: follows the new instance from the start of its files.
    const firstConn = createRedisConnection(redisUrl, 'first-agent');
    const first = shipperOn(firstConn);
    first.shipper.start();
    first.shipper.lifecycle(instance, `Cell cell-t is starting instance 0 of web (${instance.instanceId})`);
    await first.shipper.follow(instance, { resume: false });
    await new RuncRuntime(config).start({
      id: containerId,
      layers: [join(tmp, 'empty-layer')],
      command: ['/bin/sh', '-c', TICKER],
      cwd: '/',
      env: {},
      user: { uid: VCAP_UID, gid: VCAP_GID },
      memoryMb: 64,
      pidsLimit: 64,
      logFile: files.out,
      errorLogFile: files.err,
      labels: { instanceId: instance.instanceId },
    });

    const firstSeen = await waitForEntries('ticks 0..10 shipped by the first agent', (e) => Math.max(-1, ...numbers(e, 'tick')) >= 10);
    const tick = firstSeen.find((e) => e.text === 'tick 0')!;
    assert.equal(tick.source, 'APP/PROC/WEB/0');
    assert.equal(tick.stream, 'OUT');
    const warn = firstSeen.find((e) => e.text === 'warn 0')!;
    assert.equal(warn.source, 'APP/PROC/WEB/0');
    assert.equal(warn.stream, 'ERR', 'stderr is told apart from stdout');
    const starting = firstSeen.find((e) => e.source === 'CELL/0')!;
    assert.match(starting.text, /^Cell cell-t is starting instance 0 of web/);
    assert.ok(firstSeen.indexOf(starting) < firstSeen.indexOf(tick));

    // The agent dies: no flush, no goodbye (what was sent is in Redis with its checkpoint, the rest is not).
    await first.shipper.close();
    firstConn.disconnect();
    await first.writer.close(100); // its pending lines fail to go: the connection is gone
    const shippedBefore = Math.max(...numbers(await all(), 'tick'));
    // The container goes on printing while no agent reads its output.
    await pollUntil('the container to print on while no agent runs', async () => (await lastTickInFile(files.out)) >= shippedBefore + 10, { timeoutMs: 10_000, intervalMs: 50 });

    // The new agent re-adopts the container and resumes from the checkpoints.
    const handles = await new RuncRuntime(config).recover();
    assert.deepEqual(handles.map((h) => h.id), [containerId], 'the container survived and is re-adopted');
    const secondConn = createRedisConnection(redisUrl, 'second-agent');
    const second = shipperOn(secondConn);
    try {
      second.shipper.start();
      await second.shipper.follow(instance, { resume: true });
      await second.shipper.forgetOthers();
      const target = shippedBefore + 30;
      await waitForEntries(`ticks up to ${target}`, (e) => Math.max(-1, ...numbers(e, 'tick')) >= target);

      await new RuncRuntime(config).stop(containerId, 2_000);
      await second.shipper.finish(instance.instanceId, { text: 'Instance 0 of web stopped' });
      const entries = await all();
      const ticks = numbers(entries, 'tick');
      assert.deepEqual(ticks, Array.from({ length: ticks.length }, (_, i) => i), 'every tick exactly once, in order, across the restart');
      const warns = numbers(entries, 'warn');
      assert.deepEqual(warns, Array.from({ length: warns.length }, (_, i) => i * 5), 'every stderr line exactly once');
      assert.ok(ticks.length > target);
      assert.equal(entries.at(-1)!.text, 'Instance 0 of web stopped');
      assert.equal(entries.at(-1)!.source, 'CELL/0');
      assert.equal(await redis.exists(keys.logOffsets('cell-t')), 0, 'the checkpoints of a finished instance are gone');
      assert.equal(await exists(files.out), false, 'its output files are removed once shipped');
      assert.equal(await exists(files.err), false);
    } finally {
      await second.shipper.close();
      await second.writer.close();
      secondConn.disconnect();
    }
  });

  it('the instance manager tags lifecycle lines CELL/<index>; a crash ships the last output first and quotes stdout and stderr', async () => {
    const crashing = { ...instance, instanceId: `c${suffix}`, index: 1 };
    const layer = join(tmp, 'droplet');
    await mkdir(join(layer, 'home', 'vcap', 'app'), { recursive: true });
    await writeFile(join(layer, 'home', 'vcap', 'app', 'start.sh'), 'echo booting\nsleep 0.5\necho "Error: boom: missing DATABASE_URL" >&2\nexit 3\n');
    const cellConfig = loadCellConfig({
      CELL_ID: 'cell-m',
      CELL_DATA_DIR: join(tmp, 'cell'),
      CELL_BRIDGE: config.network.bridge,
      CELL_SUBNET: config.network.subnet,
      CELL_PORT_RANGE: `${portBase}-${portBase + 49}`,
      CELL_IPTABLES_CHAIN: config.iptablesChain,
      CELL_CONTAINER_PREFIX: name,
      REDIS_URL: redisUrl,
      PAAS_INTERNAL_TOKEN: randomBytes(32).toString('hex'),
    });
    await mkdir(join(tmp, 'cell', 'logs'), { recursive: true });
    const conn = createRedisConnection(redisUrl, 'manager-agent');
    const { writer, shipper } = shipperOn(conn, join(tmp, 'cell', 'logs'), 'cell-m');
    const droplets = { fetch: async () => layer, evict: async () => undefined } as unknown as DropletCache;
    const manager = new InstanceManager(cellConfig, new RuncRuntime(config), droplets, conn, keys, logger, shipper);
    const job: StartInstanceJob = {
      ...crashing,
      appName: 'logs',
      spaceId: 's',
      spaceName: 'dev',
      orgName: 'acme',
      releaseId: 'rel-1',
      dropletId: 'droplet-1',
      dropletUrl: 'http://127.0.0.1:1/droplets/droplet-1',
      memoryMb: 64,
      diskMb: 64,
      env: {},
      uris: [],
      startCommand: 'sh start.sh',
      healthCheck: { type: 'process', timeoutS: 5 },
      routable: true,
    };
    try {
      shipper.start();
      await manager.start(job);
      // No tick: the runtime's wait tells the manager that the container ended.
      await pollUntil('the instance to exit and be noticed', async () => manager.count === 0, { timeoutMs: 15_000, intervalMs: 100 });
      const entries = (await all()).filter((e) => e.source.endsWith('/1'));
      const lines = entries.map((e) => `[${e.source}] ${e.stream} ${e.text}`);
      const at = (pattern: RegExp) => {
        const i = lines.findIndex((l) => pattern.test(l));
        assert.ok(i >= 0, `${pattern} in\n${lines.join('\n')}`);
        return i;
      };
      const starting = at(/^\[CELL\/1\] OUT Cell cell-m is starting instance 1 of web/);
      const booting = at(/^\[APP\/PROC\/WEB\/1\] OUT booting$/);
      const error = at(/^\[APP\/PROC\/WEB\/1\] ERR Error: boom: missing DATABASE_URL$/);
      const crashed = at(/^\[CELL\/1\] ERR Instance 1 of web crashed: exited with status 3; its last log lines: booting \| Error: boom: missing DATABASE_URL$/);
      assert.ok(starting < booting && booting < error && error < crashed, lines.join('\n'));
      assert.equal(crashed, lines.length - 1, 'the crash line is the last');
      assert.equal(await exists(outputFiles(join(tmp, 'cell', 'logs'), crashing.instanceId).out), false);
    } finally {
      await shipper.close();
      await writer.close();
      conn.disconnect();
    }
  });

  async function waitForEntries(what: string, done: (entries: LogEntry[]) => boolean): Promise<LogEntry[]> {
    let entries: LogEntry[] = [];
    await pollUntil(what, async () => done((entries = await all())), { timeoutMs: 20_000, intervalMs: 50 });
    return entries;
  }
});

async function lastTickInFile(path: string): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const matches = [...(await readFile(path, 'utf8')).matchAll(/^tick (\d+)$/gm)];
  return matches.length ? Number(matches.at(-1)![1]) : -1;
}
