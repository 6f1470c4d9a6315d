/**
 * The repositories of the controller's own Redis state against a real redis-server of their own
 * (127.0.0.1, a free port, no persistence): crash histories, unplaced reasons, recent placements,
 * cell drains, deploy cancels, leases, the leader lease, the rebuild mark and the cell registry
 * reads, the work output channel. Each test also reads the raw keys, so key names and value formats stay what a running
 * platform's Redis holds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '@paas/contracts';
import { redisLogin, redisUrlOf, writeRedisAcl } from '@paas/local-services';
import { createRedisConnection, subscribeWhenReady } from './connection';
import { forgetAppCrashes, readCrashHistories, recordCrash, resetCrash } from './crash-histories';
import { clearUnplaced, clearUnplacedBeyond, forgetUnplacedReasons, markUnplaced, readUnplacedReasons } from './unplaced-reasons';
import { bookPlacement, readRecentPlacements, unbookPlacement } from './recent-placements';
import { cellDrainAsked, endCellDrain, markCellDrained } from './cell-drains';
import { clearDeployCancel, readDeployCancel, requestDeployCancel } from './deploy-cancels';
import { holdLease, leaseHeld } from './leases';
import { releaseConvergenceLead, tryLeadConvergence } from './leader-lease';
import { markRedisRebuilt, redisRebuilding } from './rebuild-mark';
import { announceCell, cellPresent, expireCellPresence, listAnnouncedCells, withdrawCell } from './cell-registry';
import { listAllInstances, readInstance, reportInstance } from './instance-store';
import { publishWorkEnd, publishWorkLine } from './work-output';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('controller state repositories (real redis-server)', () => {
  let dir: string;
  let server: ChildProcess | undefined;
  let redis: Redis;
  const keys = redisKeys(`cs${randomBytes(3).toString('hex')}:`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paas-controller-state-it-'));
    const port = await freePort();
    const login = await redisLogin(dir);
    const acl = await writeRedisAcl(dir, login);
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--aclfile', acl], { stdio: 'ignore' });
    redis = createRedisConnection(redisUrlOf('127.0.0.1', port, login), 'controller-state-test');
    await until('redis-server to answer', async () => (await redis.ping()) === 'PONG');
  });

  after(async () => {
    redis?.disconnect();
    const child = server;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('crash histories: recorded per slot as JSON, read back, reset one, forget the app', async () => {
    const history = { count: 2, lastCrashAt: 1000, lastInstanceId: 'i1', reason: 'exit 1' };
    await recordCrash(redis, keys, 'app1', 'web', 0, history);
    await recordCrash(redis, keys, 'app1', 'worker', 1, { ...history, count: 1 });
    assert.deepEqual(await redis.hgetall(keys.crashes('app1')), {
      'web:0': JSON.stringify(history),
      'worker:1': JSON.stringify({ ...history, count: 1 }),
    });
    await redis.hset(keys.crashes('app1'), 'web:9', 'not json');
    const read = await readCrashHistories<typeof history>(redis, keys, 'app1');
    assert.deepEqual([...read.keys()].sort(), ['web:0', 'worker:1'], 'a malformed entry is left out');
    assert.deepEqual(read.get('web:0'), history);
    await resetCrash(redis, keys, 'app1', 'web', 0);
    await resetCrash(redis, keys, 'app1', 'web', 0);
    assert.deepEqual(Object.keys(await redis.hgetall(keys.crashes('app1'))).sort(), ['web:9', 'worker:1']);
    await forgetAppCrashes(redis, keys, 'app1');
    assert.equal(await redis.exists(keys.crashes('app1')), 0);
    assert.equal((await readCrashHistories(redis, keys, 'app1')).size, 0);
  });

  it('unplaced reasons: marked per slot, cleared when placed or no longer desired, forgotten with the app', async () => {
    await markUnplaced(redis, keys, 'app2', 'web', [
      { index: 0, reason: 'no cell has 512 MB free' },
      { index: 1, reason: 'no cell has 512 MB free' },
      { index: 3, reason: 'no live cell' },
    ]);
    await markUnplaced(redis, keys, 'app2', 'worker', [{ index: 5, reason: 'no live cell' }]);
    assert.equal(await redis.hget(keys.unplaced('app2'), 'web:3'), 'no live cell', 'the value is the reason itself');
    await clearUnplaced(redis, keys, 'app2', 'web', [0]);
    await clearUnplaced(redis, keys, 'app2', 'web', []);
    await clearUnplacedBeyond(redis, keys, 'app2', 'web', 2);
    assert.deepEqual(await readUnplacedReasons(redis, keys, 'app2'), new Map([
      ['web:1', 'no cell has 512 MB free'],
      ['worker:5', 'no live cell'],
    ]), 'web:3 is beyond 2 instances; worker:5 is another process');
    await forgetUnplacedReasons(redis, keys, 'app2');
    assert.equal(await redis.exists(keys.unplaced('app2')), 0);
  });

  it('recent placements: booked as cellId|memoryMb|instanceId, summed per cell since a time, old ones pruned, unbooked by instance', async () => {
    await bookPlacement(redis, keys, { cellId: 'c1', memoryMb: 256, instanceId: 'old' }, 1_000);
    await bookPlacement(redis, keys, { cellId: 'c1', memoryMb: 256, instanceId: 'a' }, 5_000);
    await bookPlacement(redis, keys, { cellId: 'c1', memoryMb: 128, instanceId: 'b' }, 5_001);
    await bookPlacement(redis, keys, { cellId: 'c2', memoryMb: 512, instanceId: 'c' }, 5_002);
    assert.deepEqual(await redis.zrange(keys.recentPlacements, 0, -1, 'WITHSCORES'), ['c1|256|old', '1000', 'c1|256|a', '5000', 'c1|128|b', '5001', 'c2|512|c', '5002']);
    assert.deepEqual(await readRecentPlacements(redis, keys, 2_000), new Map([
      ['c1', { instances: 2, memoryMb: 384 }],
      ['c2', { instances: 1, memoryMb: 512 }],
    ]));
    assert.deepEqual(await redis.zrange(keys.recentPlacements, 0, -1), ['c1|256|a', 'c1|128|b', 'c2|512|c'], 'the old booking is pruned');
    await unbookPlacement(redis, keys, 'b');
    await unbookPlacement(redis, keys, 'b');
    assert.deepEqual(await readRecentPlacements(redis, keys, 2_000), new Map([
      ['c1', { instances: 1, memoryMb: 256 }],
      ['c2', { instances: 1, memoryMb: 512 }],
    ]));
  });

  it('cell drains: the mark holds the ISO time with its TTL; ending it says whether there was one', async () => {
    assert.equal(await cellDrainAsked(redis, keys, 'cell-a'), false);
    await markCellDrained(redis, keys, 'cell-a', 24 * 3600, new Date(0));
    assert.equal(await redis.get(keys.cellDrain('cell-a')), '1970-01-01T00:00:00.000Z');
    const ttl = await redis.ttl(keys.cellDrain('cell-a'));
    assert.ok(ttl > 24 * 3600 - 10 && ttl <= 24 * 3600, `TTL ${ttl}`);
    assert.equal(await cellDrainAsked(redis, keys, 'cell-a'), true);
    assert.equal(await endCellDrain(redis, keys, 'cell-a'), true);
    assert.equal(await endCellDrain(redis, keys, 'cell-a'), false);
    assert.equal(await cellDrainAsked(redis, keys, 'cell-a'), false);
  });

  it('deploy cancels: JSON {by, at} with a TTL, read back as who asked, cleared', async () => {
    assert.equal(await readDeployCancel(redis, keys, 'd1'), undefined);
    await requestDeployCancel(redis, keys, 'd1', 'alice', 3600, new Date(0));
    assert.equal(await redis.get(keys.deployCancel('d1')), '{"by":"alice","at":"1970-01-01T00:00:00.000Z"}');
    assert.ok((await redis.ttl(keys.deployCancel('d1'))) > 3590);
    assert.equal(await readDeployCancel(redis, keys, 'd1'), 'alice');
    await redis.set(keys.deployCancel('d2'), 'garbage');
    assert.equal(await readDeployCancel(redis, keys, 'd2'), 'someone', 'a malformed request still cancels');
    await clearDeployCancel(redis, keys, 'd1');
    await clearDeployCancel(redis, keys, 'd1');
    assert.equal(await redis.exists(keys.deployCancel('d1')), 0);
  });

  it('leases: held with the pid and a PX TTL, set again after Redis lost it, gone once released', async () => {
    const key = keys.deployLease('d3');
    assert.equal(await leaseHeld(redis, key), false);
    const lease = await holdLease(redis, key, 600);
    try {
      assert.equal(await redis.get(key), String(process.pid));
      const pttl = await redis.pttl(key);
      assert.ok(pttl > 0 && pttl <= 600, `PTTL ${pttl}`);
      assert.equal(await leaseHeld(redis, key), true);
      await redis.del(key);
      await until('the lease to be set again', () => leaseHeld(redis, key), 2_000);
    } finally {
      await lease.release();
    }
    assert.equal(await leaseHeld(redis, key), false);
  });

  it('leader lease: one holder at a time, renewed by its holder, released only by it', async () => {
    assert.equal(await tryLeadConvergence(redis, keys, 'r1', 5_000), true);
    assert.equal(await tryLeadConvergence(redis, keys, 'r2', 5_000), false, 'r1 holds it');
    assert.equal(await redis.get(keys.convergerLeader), 'r1');
    await redis.pexpire(keys.convergerLeader, 1_000);
    assert.equal(await tryLeadConvergence(redis, keys, 'r1', 5_000), true, 'the holder renews');
    assert.ok((await redis.pttl(keys.convergerLeader)) > 1_000, 'renewal extends the TTL');
    await releaseConvergenceLead(redis, keys, 'r2');
    assert.equal(await redis.get(keys.convergerLeader), 'r1', 'another replica cannot release it');
    await releaseConvergenceLead(redis, keys, 'r1');
    assert.equal(await redis.exists(keys.convergerLeader), 0);
    assert.equal(await tryLeadConvergence(redis, keys, 'r2', 5_000), true, 'free again: r2 takes it');
    await releaseConvergenceLead(redis, keys, 'r2');
  });

  it('rebuild mark: the loss time with a PX TTL, set once (NX) until it expires', async () => {
    assert.equal(await redisRebuilding(redis, keys), false);
    await markRedisRebuilt(redis, keys, 5_000, 1234);
    await markRedisRebuilt(redis, keys, 60_000, 9999);
    assert.equal(await redis.get(keys.redisRebuilt), '1234', 'a second mark does not replace the first');
    const pttl = await redis.pttl(keys.redisRebuilt);
    assert.ok(pttl > 0 && pttl <= 5_000, `PTTL ${pttl}: the window is not extended`);
    assert.equal(await redisRebuilding(redis, keys), true);
    await redis.del(keys.redisRebuilt);
    assert.equal(await redisRebuilding(redis, keys), false);
  });

  it('cell registry reads: announced ids (live or not), presence, an expired presence', async () => {
    const cell = (id: string) => ({ id, address: '127.0.0.1', zone: 'z1', capacity: { memoryMb: 1024, maxContainers: 10 }, instances: 0, startedAt: new Date(0).toISOString() });
    await announceCell(redis, keys, cell('cell-b'));
    await announceCell(redis, keys, cell('cell-a'));
    assert.deepEqual(await listAnnouncedCells(redis, keys), ['cell-a', 'cell-b']);
    assert.equal(await cellPresent(redis, keys, 'cell-a'), true);
    await expireCellPresence(redis, keys, 'cell-a', 1);
    await until('cell-a presence to expire', async () => !(await cellPresent(redis, keys, 'cell-a')));
    assert.deepEqual(await listAnnouncedCells(redis, keys), ['cell-a', 'cell-b'], 'an expired cell is still announced');
    await withdrawCell(redis, keys, 'cell-b');
    assert.deepEqual(await listAnnouncedCells(redis, keys), ['cell-a']);
  });

  it('instance store reads: one instance, and every instance of every app', async () => {
    const instance = (appId: string, instanceId: string, index: number) => ({
      instanceId,
      appId,
      appName: appId,
      releaseId: 'r1',
      processType: 'web',
      index,
      cellId: 'c1',
      state: 'RUNNING' as const,
      since: new Date(0).toISOString(),
      crashCount: 0,
      memoryMb: 256,
      diskMb: 1024,
    });
    await reportInstance(redis, keys, instance('shop', 'i1', 0));
    await reportInstance(redis, keys, instance('shop', 'i2', 1));
    await reportInstance(redis, keys, instance('blog', 'i3', 0));
    assert.equal((await readInstance(redis, keys, 'shop', 'i2'))?.index, 1);
    assert.equal(await readInstance(redis, keys, 'shop', 'nope'), undefined);
    assert.deepEqual((await listAllInstances(redis, keys)).map((i) => i.instanceId).sort(), ['i1', 'i2', 'i3']);
  });

  it('work output: line messages, then the end with its result, in order on the channel', async () => {
    const channel = keys.taskLog('t1');
    const sub = redis.duplicate();
    try {
      const messages: string[] = [];
      sub.on('message', (_channel: string, message: string) => messages.push(message));
      await subscribeWhenReady(sub, channel);
      await publishWorkLine(redis, channel, 'migrating');
      await publishWorkEnd(redis, channel, { ok: true, exitCode: 0 });
      await until('both messages', async () => messages.length === 2);
      assert.deepEqual(messages, ['{"type":"line","text":"migrating"}', '{"type":"end","result":{"ok":true,"exitCode":0}}']);
    } finally {
      sub.disconnect();
    }
  });
});
