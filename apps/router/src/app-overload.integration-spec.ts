/**
 * The per-app bound on requests in flight, through a real router process (node dist/main.js, as
 * `npm start` runs it) against a real redis-server: a slow app that holds every request until the
 * test lets it answer, and a quiet app beside it. Bound 2, queue 1: the 4th concurrent request
 * to the slow app gets the router's 503 app-overloaded with Retry-After while the quiet app still
 * answers; a waiting request that waits too long gets the same 503; slots come back when requests
 * end, also when their clients abort. Every wait polls with a deadline.
 */
import { redisKeys, ROUTER_ERROR_HEADER, type Endpoint, type RouteEntry } from '@paas/contracts';
import { registerEndpoint, writeHostRoutes } from '@paas/redis';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startRouterProcess, type RouterProcess } from './integration-test-support';
import { request, startBackend, startRedisServer, type Backend, type RedisProcess, type Reply } from '@paas/testing';
import { pollUntil } from '@paas/local-services';

const SLOW = 'slow.apps.localhost';
const QUIET = 'quiet.apps.localhost';
const MAX_IN_FLIGHT = 2;
const MAX_QUEUED = 1;
const QUEUE_TIMEOUT_MS = 3_000;

/** An app that holds each request until `releaseAll`; counts the requests it holds. */
async function startHoldingBackend(): Promise<{ address: string; held(): number; releaseAll(): void; close(): Promise<void> }> {
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    req.resume();
    held.add(res);
    res.once('close', () => held.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held.size,
    releaseAll: () => {
      for (const res of held) res.end('slow done');
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A GET the test can abort: `reply` settles with the answer, or with status 0 once aborted. */
function openRequest(port: number, host: string): { reply: Promise<Reply>; abort(): void } {
  const req = http.request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { host }, timeout: 20_000 });
  const reply = new Promise<Reply>((resolve) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', () => resolve({ status: 0, headers: {}, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', () => resolve({ status: 0, headers: {}, body: '' }));
  });
  req.end();
  return { reply, abort: () => req.destroy() };
}

/** One keep-alive connection to the router: `send` writes a request and resolves with everything read until `done` holds. */
function keepAliveConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setTimeout(20_000, () => socket.destroy(new Error('no answer')));
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
  return {
    send: (host: string, done: (text: string) => boolean) =>
      new Promise<string>((resolve, reject) => {
        data = '';
        const check = () => {
          if (!done(data)) return;
          socket.off('data', check);
          resolve(data);
        };
        socket.on('data', check);
        socket.once('error', reject);
        socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      }),
    close: () => socket.destroy(),
  };
}

/** The value of a Prometheus sample line, or undefined when the metric is absent. */
function sample(metrics: string, nameAndLabels: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${nameAndLabels} `));
  return line === undefined ? undefined : Number(line.slice(nameAndLabels.length + 1));
}

describe('per-app bound on requests in flight, through a real router process', () => {
  const prefix = `test-overload-${randomUUID().slice(0, 8)}`;
  const keys = redisKeys(prefix);
  const dir = mkdtempSync(join(tmpdir(), 'router-overload-'));
  let redisProcess: RedisProcess | undefined;
  let redis: Redis | undefined;
  let router: RouterProcess | undefined;
  let port = 0;
  let adminPort = 0;
  let slow: Awaited<ReturnType<typeof startHoldingBackend>>;
  let quiet: Backend;

  const metrics = async () => (await request(adminPort, '127.0.0.1', '/metrics')).body;
  const gauges = async () => {
    const text = await metrics();
    return { inFlight: sample(text, 'paas_router_app_in_flight_requests'), queued: sample(text, 'paas_router_app_queued_requests') };
  };
  const waitForGauges = (inFlight: number, queued: number, what: string) =>
    pollUntil(what, async () => {
      const g = await gauges();
      return g.inFlight === inFlight && g.queued === queued ? true : undefined;
    }, { timeoutMs: 15_000 });
  const waitForHeld = (n: number) => pollUntil(`the slow app to hold ${n} requests`, async () => (slow.held() === n ? true : undefined), { timeoutMs: 15_000 });

  before(async () => {
    redisProcess = await startRedisServer(dir);
    redis = new Redis(redisProcess.url, { maxRetriesPerRequest: 1 });
    slow = await startHoldingBackend();
    quiet = await startBackend('quiet');
    for (const [host, appId, address] of [
      [SLOW, 'app-slow', slow.address],
      [QUIET, 'app-quiet', quiet.address],
    ] as const) {
      const endpoint: Endpoint = { instanceId: `${appId}-0`, appId, processType: 'web', index: 0, address, cellId: 'cell-test', expiresAt: Date.now() + 600_000 };
      const route: RouteEntry = { routeId: `route-${appId}`, host, path: '', destinations: [{ id: `dest-${appId}`, appId, processType: 'web', port: 8080 }] };
      await registerEndpoint(redis, keys, endpoint);
      await writeHostRoutes(redis, keys, host, [route]);
    }
    adminPort = await freePort();
    router = await startRouterProcess({
      redisUrl: redisProcess.url,
      prefix,
      env: {
        ROUTER_ADMIN_PORT: String(adminPort),
        ROUTER_APP_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
        ROUTER_APP_MAX_QUEUED: String(MAX_QUEUED),
        ROUTER_APP_QUEUE_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS),
      },
      what: 'the quiet app',
      serves: async (p) => (await request(p, QUIET)).status === 200,
    });
    port = router.port;
  });

  after(async () => {
    try {
      slow?.releaseAll();
      await router?.kill();
      redis?.disconnect();
      await Promise.all([slow?.close(), quiet?.close()]);
    } finally {
      redisProcess?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses the request past bound + queue with 503 app-overloaded and Retry-After, serves another app meanwhile, and frees the slots after', async () => {
    const running = [openRequest(port, SLOW), openRequest(port, SLOW)];
    await waitForHeld(MAX_IN_FLIGHT);
    const waiting = openRequest(port, SLOW);
    await waitForGauges(MAX_IN_FLIGHT, 1, 'the third request to wait');

    const refused = await request(port, SLOW);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers[ROUTER_ERROR_HEADER], 'app-overloaded');
    assert.equal(refused.headers['retry-after'], '1');
    const body = JSON.parse(refused.body) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'app-overloaded');
    assert.match(body.error.message, /already has 2 requests in flight .* and 1 waiting: retry after a second/);
    assert.equal(slow.held(), MAX_IN_FLIGHT, 'the refused request never reached the app');

    const other = await request(port, QUIET);
    assert.equal(other.status, 200, 'another app is not held up by the full one');
    assert.equal(other.body, 'hello from quiet');

    slow.releaseAll();
    for (const r of running) assert.equal((await r.reply).status, 200);
    await waitForHeld(1); // the waiting one got the freed slot
    slow.releaseAll();
    assert.equal((await waiting.reply).status, 200);
    await waitForGauges(0, 0, 'every slot to be free');

    const again = [openRequest(port, SLOW), openRequest(port, SLOW)];
    await waitForHeld(MAX_IN_FLIGHT);
    slow.releaseAll();
    for (const r of again) assert.equal((await r.reply).status, 200, 'the freed slots take new requests');
    const text = await metrics();
    assert.equal(sample(text, 'paas_router_app_overload_refusals_total{app_id="app-slow",reason="queue-full"}'), 1);
  });

  it('reads the next request of a refused keep-alive connection only after about the Retry-After, and then serves it', async () => {
    const running = [openRequest(port, SLOW), openRequest(port, SLOW)];
    await waitForHeld(MAX_IN_FLIGHT);
    const waiting = openRequest(port, SLOW);
    await waitForGauges(MAX_IN_FLIGHT, 1, 'the third request to wait');
    const connection = keepAliveConnection(port);
    try {
      const refused = await connection.send(SLOW, (t) => t.includes('"code":"app-overloaded"') && t.endsWith('}'));
      assert.match(refused, /^HTTP\/1\.1 503 /);
      assert.match(refused, /\r\nconnection: keep-alive\r\n/i, 'the connection stays open');
      const sentAt = performance.now();
      const next = await connection.send(QUIET, (t) => t.endsWith('hello from quiet'));
      assert.match(next, /^HTTP\/1\.1 200 /);
      // Half the Retry-After at least (the hold-off is 0.5 to 1.5 times it).
      assert.ok(performance.now() - sentAt >= 450, `the next request was read after ${Math.round(performance.now() - sentAt)} ms`);
    } finally {
      connection.close();
    }
    slow.releaseAll();
    for (const r of running) assert.equal((await r.reply).status, 200);
    await waitForHeld(1);
    slow.releaseAll();
    assert.equal((await waiting.reply).status, 200);
    await waitForGauges(0, 0, 'every slot to be free');
  });

  it('holds a connection refused again in a row twice as long, and says so in Retry-After; a request that gets a slot starts it over', async () => {
    const running = [openRequest(port, SLOW), openRequest(port, SLOW)];
    await waitForHeld(MAX_IN_FLIGHT);
    const waiting = openRequest(port, SLOW);
    await waitForGauges(MAX_IN_FLIGHT, 1, 'the third request to wait');
    const connection = keepAliveConnection(port);
    const refusal = () => connection.send(SLOW, (t) => t.includes('"code":"app-overloaded"') && t.endsWith('}'));
    try {
      assert.match(await refusal(), /\r\nretry-after: 1\r\n/i);
      const sentAt = performance.now();
      const second = await refusal();
      assert.match(second, /\r\nretry-after: 2\r\n/i, 'the second refusal in a row asks for twice as long');
      assert.match(second, /retry after 2 seconds/);
      const next = connection.send(QUIET, (t) => t.endsWith('hello from quiet'));
      const reply = await next;
      // The second hold is 0.5 to 1.5 times 2 s; the first at least 0.5 s came before it was read.
      assert.ok(performance.now() - sentAt >= 1_450, `the request after the second refusal was read ${Math.round(performance.now() - sentAt)} ms after the second was sent`);
      assert.match(reply, /^HTTP\/1\.1 200 /);
      // The waiting request has waited its queue timeout meanwhile (or will): another fills the queue.
      assert.equal((await waiting.reply).status, 503);
      const waitingAgain = openRequest(port, SLOW);
      await waitForGauges(MAX_IN_FLIGHT, 1, 'another request to wait');
      assert.match(await refusal(), /\r\nretry-after: 1\r\n/i, 'a request that got a slot started the count over');
      slow.releaseAll();
      for (const r of running) assert.equal((await r.reply).status, 200);
      await waitForHeld(1);
      slow.releaseAll();
      assert.equal((await waitingAgain.reply).status, 200);
    } finally {
      connection.close();
    }
    await waitForGauges(0, 0, 'every slot to be free');
  });

  it('refuses a request that waited the queue timeout with the same 503', async () => {
    const timeoutsBefore = sample(await metrics(), 'paas_router_app_overload_refusals_total{app_id="app-slow",reason="queue-timeout"}') ?? 0;
    const running = [openRequest(port, SLOW), openRequest(port, SLOW)];
    await waitForHeld(MAX_IN_FLIGHT);
    const waiting = openRequest(port, SLOW);
    const reply = await waiting.reply; // bounded by the router's queue timeout (and the client's own)
    assert.equal(reply.status, 503);
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'app-overloaded');
    assert.equal(reply.headers['retry-after'], '1');
    assert.match(reply.body, new RegExp(`waited ${QUEUE_TIMEOUT_MS} ms for a slot`));
    slow.releaseAll();
    for (const r of running) assert.equal((await r.reply).status, 200);
    await waitForGauges(0, 0, 'every slot to be free');
    assert.equal(sample(await metrics(), 'paas_router_app_overload_refusals_total{app_id="app-slow",reason="queue-timeout"}'), timeoutsBefore + 1);
  });

  it('frees the slot of a client that aborts, whether its request runs or waits: no slot leaks', async () => {
    const running = [openRequest(port, SLOW), openRequest(port, SLOW)];
    await waitForHeld(MAX_IN_FLIGHT);
    const waiting = openRequest(port, SLOW);
    await waitForGauges(MAX_IN_FLIGHT, 1, 'the third request to wait');
    for (const r of [...running, waiting]) r.abort();
    await waitForGauges(0, 0, 'the aborted requests to give their slots back');
    await waitForHeld(0);

    // The whole bound is there again: two run at once and a third waits rather than being refused.
    const next = [openRequest(port, SLOW), openRequest(port, SLOW)];
    await waitForHeld(MAX_IN_FLIGHT);
    const third = openRequest(port, SLOW);
    await waitForGauges(MAX_IN_FLIGHT, 1, 'the third request to wait');
    slow.releaseAll();
    for (const r of next) assert.equal((await r.reply).status, 200);
    await waitForHeld(1);
    slow.releaseAll();
    assert.equal((await third.reply).status, 200);
  });
});
