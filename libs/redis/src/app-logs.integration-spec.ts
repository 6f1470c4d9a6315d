/**
 * The app log writer and readers against a real redis-server of their own (127.0.0.1, a free
 * port, no persistence): order, tags, paging after an id without gaps or repeats, the MAXLEN
 * bound, the per-app rate limit and its marker line, checkpoints in the lines' transaction (and
 * the log offsets read back from them), and lines kept while Redis is away.
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
import { pollUntil, redisLogin, redisUrlOf, writeRedisAcl } from '@paas/local-services';
import { createRedisConnection } from './connection';
import { AppLogWriter, lastAppLogId, readAppLogsAfter, readRecentAppLogs, waitForAppLogs } from './app-logs';
import { forgetLogOffsetsExcept, logOffsetField, readLogOffsets } from './log-offsets';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('app logs in Redis streams (real redis-server)', () => {
  let dir: string;
  let port: number;
  let url: string;
  let server: ChildProcess | undefined;
  let redis: Redis;
  const keys = redisKeys(`al${randomBytes(3).toString('hex')}`);
  const writers: AppLogWriter[] = [];

  const startServer = async () => {
    const login = await redisLogin(dir);
    const acl = await writeRedisAcl(dir, login);
    url = redisUrlOf('127.0.0.1', port, login);
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--aclfile', acl], { stdio: 'ignore' });
    const probe = createRedisConnection(url, 'probe');
    try {
      await pollUntil('redis-server to answer', async () => (await probe.ping()) === 'PONG', { timeoutMs: 10_000, intervalMs: 25 });
    } finally {
      probe.disconnect();
    }
  };
  const stopServer = async () => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const writer = (options: Partial<ConstructorParameters<typeof AppLogWriter>[2]> = {}) => {
    const w = new AppLogWriter(redis, keys, {
      settings: { maxLines: 5000, ttlSeconds: 3600 },
      markerSource: 'CELL/0',
      markerWhere: 'cell test',
      flushIntervalMs: 20,
      ...options,
    });
    writers.push(w);
    return w;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paas-app-logs-it-'));
    port = await freePort();
    await startServer();
    redis = createRedisConnection(url, 'app-logs-test');
  });

  after(async () => {
    for (const w of writers) await w.close(500);
    redis?.disconnect();
    await stopServer();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps each app its own stream, in write order, with source and stream; recent reads the tail oldest first', async () => {
    const w = writer();
    for (let i = 0; i < 1200; i++) {
      w.write('order-a', { source: 'APP/PROC/WEB/0', stream: i % 3 === 0 ? 'ERR' : 'OUT', text: `a ${i}` });
      if (i % 100 === 0) w.write('order-b', { source: 'RTR/0', stream: 'OUT', text: `b ${i}` });
    }
    assert.equal(await w.flush(), true);
    const a = await redis.xrange(keys.appLogs('order-a'), '-', '+');
    assert.deepEqual(a.map(([, f]) => f[7]), Array.from({ length: 1200 }, (_, i) => `a ${i}`));
    const recent = await readRecentAppLogs(redis, keys, 'order-a', 3);
    assert.deepEqual(recent.map((e) => e.text), ['a 1197', 'a 1198', 'a 1199']);
    assert.deepEqual(recent.map((e) => e.stream), ['ERR', 'OUT', 'OUT']);
    assert.equal(recent[0]!.source, 'APP/PROC/WEB/0');
    for (let i = 1; i < recent.length; i++) assert.ok(recent[i]!.timestamp >= recent[i - 1]!.timestamp, 'timestamps follow the order');
    const b = await readRecentAppLogs(redis, keys, 'order-b', 100);
    assert.deepEqual(b.map((e) => e.text), Array.from({ length: 12 }, (_, i) => `b ${i * 100}`));
    assert.ok((await redis.ttl(keys.appLogs('order-a'))) > 3500, 'an idle stream expires');
  });

  it('reads after an id page by page: no gap, no repeat', async () => {
    const w = writer();
    for (let i = 0; i < 250; i++) w.write('paging', { source: 'APP/PROC/WEB/0', stream: 'OUT', text: `line ${i}` });
    await w.flush();
    const seen: string[] = [];
    let cursor = '0-0';
    for (let page = 0; page < 10; page++) {
      const { entries, lastId } = await readAppLogsAfter(redis, keys, 'paging', cursor, 40);
      if (entries.length === 0) break;
      seen.push(...entries.map((e) => e.text));
      cursor = lastId;
    }
    assert.deepEqual(seen, Array.from({ length: 250 }, (_, i) => `line ${i}`));
    assert.equal(await lastAppLogId(redis, keys, 'paging'), cursor);
    assert.equal(await lastAppLogId(redis, keys, 'never-logged'), '0-0');
  });

  it('a blocked read wakes up with lines written after its id', async () => {
    const w = writer();
    const conn = redis.duplicate();
    try {
      const from = await lastAppLogId(redis, keys, 'blocking');
      const waiting = waitForAppLogs(conn, keys, 'blocking', from, { blockMs: 5_000, count: 100 });
      await new Promise((r) => setTimeout(r, 50));
      w.write('blocking', { source: 'CELL/0', stream: 'OUT', text: 'woke up' });
      const { entries } = await waiting;
      assert.deepEqual(entries.map((e) => [e.source, e.text]), [['CELL/0', 'woke up']]);
      const none = await waitForAppLogs(conn, keys, 'blocking', entries[0]!.id, { blockMs: 50, count: 100 });
      assert.deepEqual(none.entries, []);
    } finally {
      conn.disconnect();
    }
  });

  it('keeps about maxLines lines per app, the newest', async () => {
    const w = writer({ settings: { maxLines: 200, ttlSeconds: 0 } });
    for (let i = 0; i < 3000; i++) w.write('bounded', { source: 'APP/PROC/WEB/0', stream: 'OUT', text: `n ${i}` });
    await w.flush();
    const length = await redis.xlen(keys.appLogs('bounded'));
    // MAXLEN ~ trims whole nodes (100 entries each by default): never fewer than asked, at most a node more.
    assert.ok(length >= 200 && length <= 300, `kept ${length}`);
    const [newest] = await readRecentAppLogs(redis, keys, 'bounded', 1);
    assert.equal(newest!.text, 'n 2999');
    assert.equal(await redis.ttl(keys.appLogs('bounded')), -1, 'ttl 0: no expiry');
  });

  it('rate-limits a chatty app per app, with one marker line for the dropped lines; a quiet app and unlimited lines pass', async () => {
    let now = 1_000_000;
    const w = writer({ rateLimit: { ratePerSecond: 10, burst: 20, windowMs: 5_000 }, clock: () => now });
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const outcome = w.write('chatty', { source: 'APP/PROC/WEB/0', stream: 'OUT', text: `spam ${i}` }, { limited: true });
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(outcomes), { queued: 20, 'rate-limited': 480 });
    assert.equal(w.write('quiet', { source: 'APP/PROC/WEB/0', stream: 'OUT', text: 'hello' }, { limited: true }), 'queued');
    assert.equal(w.write('chatty', { source: 'CELL/0', stream: 'OUT', text: 'lifecycle' }), 'queued', 'unlimited lines pass');
    await w.flush();
    now += 5_000;
    await w.flush();
    const chatty = await readRecentAppLogs(redis, keys, 'chatty', 1000);
    assert.equal(chatty.filter((e) => e.text.startsWith('spam')).length, 20);
    const markers = chatty.filter((e) => e.text.startsWith('app log rate limit'));
    assert.equal(markers.length, 1);
    assert.equal(markers[0]!.source, 'CELL/0');
    assert.equal(markers[0]!.stream, 'ERR');
    assert.match(markers[0]!.text, /^app log rate limit: 480 lines dropped in the last 5 s \(cell test writes at most 10 lines\/s per app, bursts of 20\)$/);
    assert.equal(chatty.at(-1)!.text, markers[0]!.text, 'the marker comes after the lines of its window');
    assert.deepEqual((await readRecentAppLogs(redis, keys, 'quiet', 10)).map((e) => e.text), ['hello']);
  });

  it('writes a checkpoint in the transaction of the lines before it', async () => {
    const w = writer();
    w.write('ckpt', { source: 'APP/PROC/WEB/0', stream: 'OUT', text: 'one' });
    w.checkpoint(keys.logOffsets('cell-x'), 'i-1:out', '4');
    w.write('ckpt', { source: 'APP/PROC/WEB/0', stream: 'OUT', text: 'two' });
    w.checkpoint(keys.logOffsets('cell-x'), 'i-1:out', '8');
    await w.flush();
    assert.equal(await redis.hget(keys.logOffsets('cell-x'), 'i-1:out'), '8');
    w.checkpoint(keys.logOffsets('cell-x'), 'i-1:out', null);
    await w.flush();
    assert.equal(await redis.hexists(keys.logOffsets('cell-x'), 'i-1:out'), 0);
  });

  it('log offsets: what checkpoints wrote reads back per output file (0 when none); all but the kept instances are forgotten', async () => {
    const w = writer();
    w.checkpoint(keys.logOffsets('cell-o'), logOffsetField('i-1', 'out'), '120');
    w.checkpoint(keys.logOffsets('cell-o'), logOffsetField('i-1', 'err'), '7');
    w.checkpoint(keys.logOffsets('cell-o'), logOffsetField('i-2', 'out'), '33');
    w.checkpoint(keys.logOffsets('cell-p'), logOffsetField('i-3', 'out'), '5');
    await w.flush();
    assert.deepEqual(await readLogOffsets(redis, keys, 'cell-o', 'i-1'), { out: 120, err: 7 });
    assert.deepEqual(await readLogOffsets(redis, keys, 'cell-o', 'i-2'), { out: 33, err: 0 });
    assert.deepEqual(await readLogOffsets(redis, keys, 'cell-o', 'nope'), { out: 0, err: 0 });
    assert.equal(await forgetLogOffsetsExcept(redis, keys, 'cell-o', new Set(['i-2'])), 2);
    assert.deepEqual(await readLogOffsets(redis, keys, 'cell-o', 'i-1'), { out: 0, err: 0 });
    assert.deepEqual(await readLogOffsets(redis, keys, 'cell-o', 'i-2'), { out: 33, err: 0 });
    assert.equal(await forgetLogOffsetsExcept(redis, keys, 'cell-o', new Set(['i-2'])), 0, 'safe twice');
    assert.deepEqual(await readLogOffsets(redis, keys, 'cell-p', 'i-3'), { out: 5, err: 0 }, "another cell's offsets stay");
  });

  it('keeps lines while Redis is away and writes them, in order, once it is back', async () => {
    const errors: Error[] = [];
    const w = writer({ retryMs: 50, onError: (e) => errors.push(e) });
    w.write('outage', { source: 'APP/PROC/WEB/0', stream: 'OUT', text: 'before' });
    await w.flush();
    await stopServer();
    for (let i = 0; i < 5; i++) w.write('outage', { source: 'APP/PROC/WEB/0', stream: 'OUT', text: `during ${i}` });
    await new Promise((r) => setTimeout(r, 200));
    await startServer(); // a fresh, empty server on the same port
    await pollUntil('the kept lines to arrive', async () => (await redis.xlen(keys.appLogs('outage'))) === 5, { timeoutMs: 10_000, intervalMs: 25 });
    const texts = (await readRecentAppLogs(redis, keys, 'outage', 10)).map((e) => e.text);
    assert.deepEqual(texts, ['during 0', 'during 1', 'during 2', 'during 3', 'during 4']);
  });
});
