/**
 * The instance manager writes usage samples into the instances' records in a real Redis (its
 * own server, port and prefix): the record the controller reads carries limits and usage while the
 * instance runs, and a sample that arrives after a stop never brings the record back. Containers
 * come from the FakeRuntime, scripted with a growing memory (and CPU time capped by a quota).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { redisKeys, type StartInstanceJob } from '@paas/contracts';
import { pollUntil, type SupervisedProcess } from '@paas/local-services';
import { createRedisConnection, listAppInstances } from '@paas/redis';
import { FakeRuntime } from '@paas/runtime';
import { loadCellConfig } from './config';
import type { DropletCache } from './droplet-cache';
import { InstanceManager } from './instance-manager';
import { UsageSampler } from './usage-sampler';
import { startTestRedis, testStartJob } from './cell-test-support';

const MiB = 1024 * 1024;

describe('instance usage in the Redis records (real Redis, fake runtime)', () => {
  let tmp: string;
  let redisServer: SupervisedProcess;
  let redis: Redis;
  let manager: InstanceManager;
  let sampler: UsageSampler;
  let memoryBytes = 30 * MiB;
  const clock = { now: 1_800_000_000_000 };
  const keys = redisKeys(`iu${randomBytes(3).toString('hex')}`);
  const runtime = new FakeRuntime({
    prefix: 'iu-c1',
    now: () => clock.now,
    usageFor: (_spec, runningMs) => ({ cpuNanos: runningMs * 250_000, memoryBytes, diskBytes: 2 * MiB }),
  });
  /** The droplet is never looked at by the fake runtime: only its path is passed on. */
  const droplets = { fetch: async () => '/nonexistent/droplet', evict: async () => undefined } as unknown as DropletCache;

  const job = (instanceId: string, index: number): StartInstanceJob => testStartJob('app-usage', instanceId, { index });
  const record = async (instanceId: string) => (await listAppInstances(redis, keys, 'app-usage')).find((i) => i.instanceId === instanceId);

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-instance-usage-'));
    await mkdir(join(tmp, 'logs'));
    const { url: redisUrl, server } = await startTestRedis(tmp);
    redisServer = server;
    redis = createRedisConnection(redisUrl, 'instance-usage-test');
    const config = loadCellConfig({
      CELL_ID: 'cell-u',
      CELL_DATA_DIR: join(tmp, 'cell'),
      CELL_BRIDGE: 'iu-none',
      CELL_SUBNET: '10.253.1.0/24',
      CELL_IPTABLES_CHAIN: 'IU-NONE',
      CELL_CONTAINER_PREFIX: 'iu-c1',
      REDIS_URL: redisUrl,
      PAAS_INTERNAL_TOKEN: randomBytes(32).toString('hex'),
    });
    manager = new InstanceManager(config, runtime, droplets, redis, keys, pino({ level: 'silent' }));
    sampler = new UsageSampler(runtime, manager, pino({ level: 'silent' }), () => clock.now);
  });

  after(async () => {
    redis?.disconnect();
    await redisServer?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('a running instance reports its limits at once and its usage from the second sample', async () => {
    await manager.start(job('i-0', 0));
    const running = await record('i-0');
    assert.equal(running?.state, 'RUNNING');
    assert.equal(running?.memoryMb, 256);
    assert.equal(running?.diskMb, 512);
    assert.equal(running?.usage, undefined);

    await sampler.sampleOnce();
    assert.equal((await record('i-0'))?.usage, undefined, 'one reading: no CPU % yet, nothing written');
    clock.now += 5_000;
    memoryBytes = 90 * MiB;
    await sampler.sampleOnce();
    assert.deepEqual((await record('i-0'))?.usage, {
      cpuPercent: 25,
      memoryBytes: 90 * MiB,
      diskBytes: 2 * MiB,
      measuredAt: new Date(clock.now).toISOString(),
    });
    assert.equal((await record('i-0'))?.state, 'RUNNING', 'the sample keeps the rest of the record');
  });

  it('a sample that comes after a stop does not bring the record back', async () => {
    await manager.start(job('i-1', 1));
    await manager.stop('i-1', 'app-usage', 'scaled down');
    assert.equal(await record('i-1'), undefined);
    await manager.recordUsage('i-1', { cpuPercent: 1, memoryBytes: 1, diskBytes: 1, measuredAt: new Date().toISOString() });
    assert.equal(await record('i-1'), undefined);
    assert.deepEqual(manager.sampleTargets().map((t) => t.instanceId), ['i-0']);
  });

  it('a crashed instance keeps no usage in its record; its reason names the signal that killed it', async () => {
    runtime.kill(manager.containerIdOf('i-0'));
    await pollUntil('the crash noticed (no tick: the runtime tells)', async () => (await record('i-0'))?.state === 'CRASHED', { timeoutMs: 5_000, intervalMs: 20 });
    const crashed = await record('i-0');
    assert.equal(crashed?.state, 'CRASHED');
    assert.equal(crashed?.usage, undefined);
    assert.equal(crashed?.reason, 'killed by signal 9 (SIGKILL)');
    assert.deepEqual(crashed?.exit, { status: 137, oomKilled: false });
    await manager.recordUsage('i-0', { cpuPercent: 1, memoryBytes: 1, diskBytes: 1, measuredAt: new Date().toISOString() });
    assert.equal((await record('i-0'))?.usage, undefined);
  });

  it('a start job with a cpu quota starts its container with it, and its CPU % stays within the quota', async () => {
    await manager.start({ ...job('i-2', 2), cpuMillicores: 100 });
    await manager.start(job('i-3', 3));
    const specOf = (instanceId: string) => runtime.list().find((c) => c.spec.id === manager.containerIdOf(instanceId))?.spec;
    assert.equal(specOf('i-2')?.cpuMillicores, 100);
    assert.equal(specOf('i-3')?.cpuMillicores, undefined, 'no quota in the job: none on the container');
    await sampler.sampleOnce();
    clock.now += 5_000;
    await sampler.sampleOnce();
    // The app would take 25% of a core; its 0.1-core quota holds it to 10%.
    assert.equal((await record('i-2'))?.usage?.cpuPercent, 10);
    assert.equal((await record('i-3'))?.usage?.cpuPercent, 25);
  });

  it('a crash reason names the exit status; out of memory is named as such', async () => {
    runtime.kill(manager.containerIdOf('i-3'), { status: 3 });
    runtime.kill(manager.containerIdOf('i-2'), { oom: true });
    await pollUntil('both crashes noticed', async () => (await record('i-3'))?.reason !== undefined && (await record('i-2'))?.reason !== undefined, { timeoutMs: 5_000, intervalMs: 20 });
    assert.equal((await record('i-3'))?.reason, 'exited with status 3');
    assert.equal((await record('i-2'))?.reason, 'out of memory (killed at its 256 MB limit)');
  });

  it('from the moment its cell takes a stop until it is gone, an instance is STOPPING with the reason; a refresh meanwhile does not make it RUNNING again', async () => {
    const slow = new FakeRuntime({ prefix: 'iu-c1', stopLatencyMs: 1_500 });
    const config = loadCellConfig({
      CELL_ID: 'cell-s',
      CELL_DATA_DIR: join(tmp, 'cell-s'),
      CELL_BRIDGE: 'iu-none',
      CELL_SUBNET: '10.253.2.0/24',
      CELL_IPTABLES_CHAIN: 'IU-NONE',
      CELL_CONTAINER_PREFIX: 'iu-c1',
      REDIS_URL: 'redis://127.0.0.1:1',
      PAAS_INTERNAL_TOKEN: randomBytes(32).toString('hex'),
    });
    await mkdir(join(tmp, 'cell-s', 'logs'), { recursive: true });
    const cell = new InstanceManager(config, slow, droplets, redis, keys, pino({ level: 'silent' }));
    await cell.start(job('i-9', 9));
    assert.equal((await record('i-9'))?.state, 'RUNNING');
    const stopping = cell.stop('i-9', 'app-usage', 'replaced by a new release');
    const seen = await pollUntil('the STOPPING record', async () => (await record('i-9'))?.state === 'STOPPING', { timeoutMs: 5_000 }).then(() => record('i-9'));
    assert.equal(seen?.reason, 'replaced by a new release');
    assert.equal(seen?.releaseId, 'rel-1');
    await cell.tick(Date.now() + 60_000); // a route refresh and report pass while it stops
    assert.equal((await record('i-9'))?.state, 'STOPPING');
    await stopping;
    assert.equal(await record('i-9'), undefined, 'forgotten once its container is gone');
  });

  it('stopApp stops every instance of one app on the cell and no other (a deleted app\'s leftovers)', async () => {
    await manager.start({ ...job('i-20', 20), appId: 'app-gone' });
    await manager.start({ ...job('i-21', 21), appId: 'app-gone' });
    await manager.start(job('i-22', 22));
    const existing = () => runtime.list().map((c) => c.spec.id);
    assert.ok(existing().includes(manager.containerIdOf('i-20')) && existing().includes(manager.containerIdOf('i-21')));
    assert.equal(await manager.stopApp('app-gone', 'app deleted'), 2);
    assert.ok(!existing().includes(manager.containerIdOf('i-20')) && !existing().includes(manager.containerIdOf('i-21')), 'both containers stopped');
    assert.deepEqual(await listAppInstances(redis, keys, 'app-gone'), [], 'their records are gone');
    assert.equal((await record('i-22'))?.state, 'RUNNING', 'the other app keeps its instance');
    assert.equal(await manager.stopApp('app-gone', 'app deleted'), 0, 'nothing left the second time');
  });
});
