/**
 * The instance manager learns that a container ended from the runtime's `wait`, not from a poll:
 * in a real Redis (its own server, port and prefix) a RUNNING instance's record says CRASHED with
 * its exit moments after the container dies, with no monitor tick at all; a STARTING one fails its
 * start at once instead of at its health-check timeout; a re-adopted one (after an agent restart)
 * is followed too. Containers come from the FakeRuntime (kill: a crash now).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { redisKeys, type ActualInstance, type StartInstanceJob } from '@paas/contracts';
import { pollUntil, type SupervisedProcess } from '@paas/local-services';
import { createRedisConnection, listAppInstances } from '@paas/redis';
import { FakeRuntime } from '@paas/runtime';
import { loadCellConfig, type CellConfig } from './config';
import type { DropletCache } from './droplet-cache';
import { InstanceManager } from './instance-manager';
import { startTestRedis, testStartJob } from './cell-test-support';

/** Well below the 2 s the monitor loop polled at before, with room for a loaded machine. */
const NOTICED_WITHIN_MS = 1_000;

describe('instance exits noticed without polling (real Redis, fake runtime)', () => {
  let tmp: string;
  let redisServer: SupervisedProcess;
  let redis: Redis;
  let config: CellConfig;
  let redisUrl: string;
  const keys = redisKeys(`ie${randomBytes(3).toString('hex')}`);
  const logger = pino({ level: 'silent' });
  /** The droplet is never looked at by the fake runtime: only its path is passed on. */
  const droplets = { fetch: async () => '/nonexistent/droplet', evict: async () => undefined } as unknown as DropletCache;

  const job = (instanceId: string, index: number, healthCheck: StartInstanceJob['healthCheck'] = { type: 'process', timeoutS: 5 }): StartInstanceJob =>
    testStartJob('app-exit', instanceId, { index, healthCheck });
  const record = async (instanceId: string): Promise<ActualInstance | undefined> =>
    (await listAppInstances(redis, keys, 'app-exit')).find((i) => i.instanceId === instanceId);
  /** Resolves with how long after `since` the record said CRASHED. */
  const crashedAfter = async (instanceId: string, since: number): Promise<number> => {
    await pollUntil(`${instanceId} CRASHED`, async () => (await record(instanceId))?.state === 'CRASHED', { timeoutMs: 10_000, intervalMs: 10 });
    return Date.now() - since;
  };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-instance-exit-'));
    await mkdir(join(tmp, 'logs'));
    ({ url: redisUrl, server: redisServer } = await startTestRedis(tmp));
    redis = createRedisConnection(redisUrl, 'instance-exit-test');
    config = loadCellConfig({
      CELL_ID: 'cell-e',
      CELL_DATA_DIR: join(tmp, 'cell'),
      CELL_BRIDGE: 'ie-none',
      CELL_SUBNET: '10.253.3.0/24',
      CELL_IPTABLES_CHAIN: 'IE-NONE',
      CELL_CONTAINER_PREFIX: 'ie-c1',
      REDIS_URL: redisUrl,
      PAAS_INTERNAL_TOKEN: randomBytes(32).toString('hex'),
    });
    await mkdir(join(tmp, 'cell', 'logs'), { recursive: true });
  });

  after(async () => {
    redis?.disconnect();
    await redisServer?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('a RUNNING instance whose container dies is CRASHED with its exit at once, with no monitor tick', async () => {
    const runtime = new FakeRuntime({ prefix: 'ie-c1' });
    const manager = new InstanceManager(config, runtime, droplets, redis, keys, logger);
    await manager.start(job('i-0', 0));
    assert.equal((await record('i-0'))?.state, 'RUNNING');
    const killedAt = Date.now();
    runtime.kill(manager.containerIdOf('i-0'), { status: 3 });
    const ms = await crashedAfter('i-0', killedAt);
    assert.ok(ms < NOTICED_WITHIN_MS, `noticed ${ms} ms after the exit`);
    const crashed = await record('i-0');
    assert.equal(crashed?.reason, 'exited with status 3');
    assert.deepEqual(crashed?.exit, { status: 3, oomKilled: false });
    assert.equal(manager.count, 0);
  });

  it('a scripted exit (crashAfterMs on the real clock) is noticed as well', async () => {
    const runtime = new FakeRuntime({ prefix: 'ie-c1', crashAfterMs: () => 300, exitStatusFor: () => 4 });
    const manager = new InstanceManager(config, runtime, droplets, redis, keys, logger);
    await manager.start(job('i-1', 1));
    const startedAt = Date.now();
    const ms = await crashedAfter('i-1', startedAt);
    assert.ok(ms >= 250 && ms < 300 + NOTICED_WITHIN_MS, `crashed ${ms} ms after the start`);
    assert.equal((await record('i-1'))?.reason, 'exited with status 4');
  });

  it('a STARTING instance whose container dies fails its start at once, not at its health-check timeout', async () => {
    const runtime = new FakeRuntime({ prefix: 'ie-c1' });
    const manager = new InstanceManager(config, runtime, droplets, redis, keys, logger);
    // Nothing answers on the fake's host port: the port check never passes within its 60 s.
    const starting = manager.start(job('i-2', 2, { type: 'port', timeoutS: 60 }));
    await pollUntil('the container started', async () => runtime.list().some((c) => c.spec.id === manager.containerIdOf('i-2')), { timeoutMs: 5_000, intervalMs: 10 });
    const killedAt = Date.now();
    runtime.kill(manager.containerIdOf('i-2'), { oom: true });
    await starting;
    assert.ok(Date.now() - killedAt < NOTICED_WITHIN_MS, `start failed ${Date.now() - killedAt} ms after the exit`);
    const crashed = await record('i-2');
    assert.equal(crashed?.state, 'CRASHED');
    assert.equal(crashed?.reason, 'out of memory (killed at its 256 MB limit)');
  });

  it('an instance re-adopted after an agent restart is followed too; a stopped one is not reported crashed', async () => {
    const runtime = new FakeRuntime({ prefix: 'ie-c1' });
    // The agent before the restart: its connection closes as its process would end (it writes nothing after).
    const firstConnection = createRedisConnection(redisUrl, 'instance-exit-first-agent');
    const first = new InstanceManager(config, runtime, droplets, firstConnection, keys, logger);
    await first.start(job('i-3', 3));
    await first.start(job('i-4', 4));
    firstConnection.disconnect();
    const restarted = new InstanceManager(config, runtime, droplets, redis, keys, logger);
    assert.equal(await restarted.recover(), 2);
    await restarted.stop('i-4', 'app-exit', 'scaled down');
    assert.equal(await record('i-4'), undefined, 'stopped and forgotten, not CRASHED');
    const killedAt = Date.now();
    runtime.kill(restarted.containerIdOf('i-3'), { status: 1 });
    const ms = await crashedAfter('i-3', killedAt);
    assert.ok(ms < NOTICED_WITHIN_MS, `noticed ${ms} ms after the exit`);
    assert.equal((await record('i-3'))?.reason, 'exited with status 1');
    assert.equal(await record('i-4'), undefined);
  });
});
