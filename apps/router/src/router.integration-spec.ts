/**
 * The router against a real redis-server (started here on a free port, with a unique key prefix)
 * and real HTTP backends on 127.0.0.1. No fixed sleeps: every wait polls with a deadline.
 */
import { redisKeys, ROUTER_ERROR_HEADER, type Endpoint, type RouteEntry } from '@paas/contracts';
import { registerEndpoint, unregisterEndpoint, writeHostRoutes } from '@paas/redis';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startRouter, type RunningRouter } from './router';
import { freePort, testRouterConfig } from './integration-test-support';
import { request, startBackend, startRedisServer, startWsEchoBackend, type Backend, type RedisProcess } from '@paas/testing';
import { pollUntil } from '@paas/local-services';

// ---------- the suite ----------

describe('router against a real redis', () => {
  const prefix = `test-router-${randomUUID().slice(0, 8)}`;
  const keys = redisKeys(prefix);
  const dir = mkdtempSync(join(tmpdir(), 'router-redis-'));
  const backends: Backend[] = [];
  let redisProcess: RedisProcess | undefined;
  let redis: Redis;
  let router: RunningRouter | undefined;

  /** The app bound to a host by `serve` (one app per test host). */
  const appOf = (host: string) => `app-${host}`;
  let nextIndex = 0;

  /** An instance's endpoint as a cell registers it (process type web, alive for `ttlMs`). */
  const instance = (appId: string, backend: { address: string }, instanceId: string, ttlMs = 60_000): Endpoint => ({
    instanceId,
    appId,
    processType: 'web',
    index: nextIndex++,
    address: backend.address,
    cellId: 'cell-test',
    expiresAt: Date.now() + ttlMs,
  });

  /** A route as the controller projects it: `host` + `path` to apps, with optional weights. */
  const routeTo = (host: string, path: string, ...apps: Array<{ appId: string; weight?: number }>): RouteEntry => ({
    routeId: `route-${host}${path}`,
    host,
    path,
    destinations: apps.map(({ appId, weight }) => ({ id: `dest-${host}${path}-${appId}`, appId, processType: 'web', port: 8080, weight })),
  });

  /** Registers endpoints the way a cell does (registerEndpoint: HSET + SADD, then a change message). */
  async function addInstances(...endpoints: Endpoint[]): Promise<void> {
    for (const e of endpoints) await registerEndpoint(redis, keys, e);
  }

  /**
   * One app per host, the common case: registers its instances (backend, instance id), then binds
   * the whole host to it. Endpoints go first, so the route never shows up without them.
   */
  async function serve(host: string, ...instances: Array<[backend: { address: string }, instanceId: string]>): Promise<void> {
    await addInstances(...instances.map(([backend, id]) => instance(appOf(host), backend, id)));
    await writeHostRoutes(redis, keys, host, [routeTo(host, '', { appId: appOf(host) })]);
  }

  /** Waits until the router answers `host` with `status`; returns that reply. */
  const waitForStatus = (host: string, status: number, path = '/') =>
    pollUntil(`${host} to answer ${status}`, async () => {
      const reply = await request(router!.port, host, path);
      return reply.status === status ? reply : undefined;
    }, { timeoutMs: 5_000 });

  before(async () => {
    redisProcess = await startRedisServer(dir);
    redis = new Redis(redisProcess.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    redis.on('error', () => undefined);
    router = await startRouter(
      testRouterConfig(redisProcess.url, prefix),
      { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) },
    );
  });

  after(async () => {
    try {
      await router?.close();
      redis?.disconnect();
      await Promise.all(backends.map((b) => b.close()));
    } finally {
      redisProcess?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers its own health check for any host', async () => {
    const reply = await request(router!.port, 'whatever.example');
    assert.equal(reply.status, 404);
    const health = await request(router!.port, 'whatever.example', '/_router/health');
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok', routes: 0 });
  });

  it('(1) answers an unknown host with 404, its header and a JSON body naming the host', async () => {
    const reply = await request(router!.port, 'foo.apps.localhost:8080');
    assert.equal(reply.status, 404);
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'unknown-route');
    assert.match(String(reply.headers['content-type']), /application\/json/);
    const body = JSON.parse(reply.body) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unknown-route');
    assert.match(body.error.message, /foo\.apps\.localhost/);
    assert.match(body.error.message, /push an app named foo/);

    const text = await request(router!.port, 'foo.apps.localhost', '/', { accept: 'text/plain' });
    assert.match(String(text.headers['content-type']), /text\/plain/);
    assert.match(text.body, /^unknown-route: no app is bound to host foo\.apps\.localhost/);
  });

  it('answers a missing or invalid Host with 400 bad-host', async () => {
    const reply = await request(router!.port, 'bad host!');
    assert.equal(reply.status, 400);
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'bad-host');
  });

  it('answers a malformed request with 400 and keeps running', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(router!.port, '127.0.0.1', () => socket.write('THIS IS NOT HTTP\r\n\r\n'));
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.setTimeout(5_000, () => socket.destroy(new Error('no answer')));
    });
    assert.match(raw, /^HTTP\/1\.1 400/);
    assert.match(raw, /x-paas-router-error: bad-request/);
    assert.equal((await request(router!.port, 'x.apps.localhost', '/_router/health')).status, 200);
  });

  it('(2) proxies a registered host to its backend with the forwarding headers', async () => {
    const backend = await startBackend('one');
    backends.push(backend);
    await serve('one.apps.localhost', [backend, 'one-0']);

    const reply = await waitForStatus('one.apps.localhost', 200, '/some/path?q=1');
    assert.equal(reply.body, 'hello from one');
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], undefined);
    const requestId = reply.headers['x-request-id'];
    assert.match(String(requestId), /^[0-9a-f-]{36}$/);

    const seen = backend.seen.at(-1)!;
    assert.equal(seen.host, 'one.apps.localhost');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-host'], 'one.apps.localhost');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-port'], String(router!.port));
    assert.equal(seen['x-request-id'], requestId);
    assert.match(String(seen['x-request-start']), /^\d{13}$/);

    // A valid incoming request id is kept; a client that is no trusted proxy (none are configured
    // here) cannot add to X-Forwarded-For: it is replaced (http-conformance spec: the trusted case).
    const passed = await request(router!.port, 'one.apps.localhost', '/', { 'x-request-id': 'trace-abc-123', 'x-forwarded-for': '203.0.113.9' });
    assert.equal(passed.headers['x-request-id'], 'trace-abc-123');
    assert.equal(backend.seen.at(-1)!['x-request-id'], 'trace-abc-123');
    assert.equal(backend.seen.at(-1)!['x-forwarded-for'], '127.0.0.1');
  });

  it('(3) balances round-robin over two backends', async () => {
    const a = await startBackend('rr-a');
    const b = await startBackend('rr-b');
    backends.push(a, b);
    await serve('rr.apps.localhost', [a, 'rr-0'], [b, 'rr-1']);
    await pollUntil('both rr endpoints loaded', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add((await request(router!.port, 'rr.apps.localhost')).body);
      return seen.size === 2 ? true : undefined;
    }, { timeoutMs: 5_000 });
    const bodies: string[] = [];
    for (let i = 0; i < 10; i++) bodies.push((await request(router!.port, 'rr.apps.localhost')).body);
    assert.equal(bodies.filter((x) => x === 'hello from rr-a').length, 5);
    assert.equal(bodies.filter((x) => x === 'hello from rr-b').length, 5);
  });

  it('(4) retries a dead endpoint on a live one, and answers 502 when only dead ones remain', async () => {
    const live = await startBackend('retry-live');
    backends.push(live);
    const dead = { address: `127.0.0.1:${await freePort()}` };
    await serve('retry.apps.localhost', [dead, 'retry-dead'], [live, 'retry-live']);
    await waitForStatus('retry.apps.localhost', 200);
    // Make sure both endpoints are in the table before counting.
    await pollUntil('the dead endpoint to be loaded', async () => {
      const before = live.seen.length;
      for (let i = 0; i < 2; i++) await request(router!.port, 'retry.apps.localhost');
      return live.seen.length === before + 2 ? true : undefined;
    }, { timeoutMs: 5_000 });
    for (let i = 0; i < 10; i++) {
      const reply = await request(router!.port, 'retry.apps.localhost', '/', { 'x-request-id': `retry-${i}` });
      assert.equal(reply.status, 200, `request ${i}: ${reply.body}`);
      assert.equal(reply.body, 'hello from retry-live');
    }

    // A request body survives the retry: the router reads none of it before a backend connects.
    const payload = Buffer.alloc(256 * 1024, 'x');
    const digest = createHash('sha256').update(payload).digest('hex');
    await serve('retrypost.apps.localhost', [dead, 'retrypost-dead'], [live, 'retrypost-live']);
    await pollUntil('both retrypost endpoints', async () => ((await redis.hlen(keys.endpoints(appOf('retrypost.apps.localhost'), 'web'))) === 2 ? true : undefined), { timeoutMs: 5_000 });
    for (let i = 0; i < 4; i++) {
      const reply = await pollUntil('a POST through the retry', async () => {
        const r = await request(router!.port, 'retrypost.apps.localhost', '/upload', {}, payload);
        return r.status === 404 ? undefined : r; // not loaded yet
      }, { timeoutMs: 5_000 });
      assert.equal(reply.status, 200, reply.body);
      assert.equal(reply.body, `retry-live got ${payload.length} bytes ${digest}`);
    }

    await serve('deadonly.apps.localhost', [dead, 'deadonly-0']);
    const reply = await waitForStatus('deadonly.apps.localhost', 502);
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'backend-unreachable');
    assert.match((JSON.parse(reply.body) as { error: { message: string } }).error.message, /deadonly\.apps\.localhost/);
  });

  it('(5) answers 503 no-healthy-instance for an expired endpoint', async () => {
    const backend = await startBackend('expired');
    backends.push(backend);
    await addInstances(instance(appOf('expired.apps.localhost'), backend, 'expired-0', -1_000));
    await writeHostRoutes(redis, keys, 'expired.apps.localhost', [routeTo('expired.apps.localhost', '', { appId: appOf('expired.apps.localhost') })]);
    const reply = await waitForStatus('expired.apps.localhost', 503);
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'no-healthy-instance');
    assert.match(reply.body, /expired\.apps\.localhost/);
    assert.equal(backend.seen.length, 0);
  });

  it('(6) stops routing to a removed endpoint at once (503)', async () => {
    const backend = await startBackend('removed');
    backends.push(backend);
    await serve('removed.apps.localhost', [backend, 'removed-0']);
    await waitForStatus('removed.apps.localhost', 200);
    const removedAt = Date.now();
    await unregisterEndpoint(redis, keys, appOf('removed.apps.localhost'), 'web', 'removed-0');
    const reply = await waitForStatus('removed.apps.localhost', 503);
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'no-healthy-instance');
    assert.ok(Date.now() - removedAt < 2_000, 'the change applies within 2 s');
  });

  it('(7) passes a WebSocket upgrade through', async () => {
    const echo = await startWsEchoBackend();
    backends.push(echo);
    // The built-in client cannot set Host, so this route's host is the literal the client sends.
    await serve('127.0.0.1', [echo, 'ws-0']);
    await pollUntil('the ws route', async () => ((await request(router!.port, '127.0.0.1')).status === 200 ? true : undefined), { timeoutMs: 5_000 });

    const ws = new WebSocket(`ws://127.0.0.1:${router!.port}/socket`);
    try {
      const echoed = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no echo within 5 s')), 5_000);
        ws.onopen = () => ws.send('ping through the router');
        ws.onmessage = (event) => {
          clearTimeout(timer);
          resolve(String(event.data));
        };
        ws.onerror = () => {
          clearTimeout(timer);
          reject(new Error('websocket error'));
        };
      });
      assert.equal(echoed, 'ping through the router');
      assert.equal(echo.seen.at(-1)!['x-forwarded-for'], '127.0.0.1');
      assert.ok(echo.seen.at(-1)!['x-request-id']);
    } finally {
      ws.close();
    }
  });

  it('survives backends that hang up before or during a response', async () => {
    const rude = http.createServer((req, res) => {
      if (req.url === '/hangup') req.socket.destroy();
      else {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('partial');
        setImmediate(() => req.socket.destroy());
      }
    });
    await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
    backends.push({
      name: 'rude',
      port: 0,
      address: '',
      seen: [],
      paths: [],
      close: () => new Promise((resolve) => rude.close(() => resolve())),
    });
    await serve('rude.apps.localhost', [{ address: `127.0.0.1:${(rude.address() as net.AddressInfo).port}` }, 'rude-0']);
    const hangup = await pollUntil('rude route', async () => {
      const r = await request(router!.port, 'rude.apps.localhost', '/hangup');
      return r.status === 404 ? undefined : r;
    }, { timeoutMs: 5_000 });
    assert.equal(hangup.status, 502);
    assert.equal(hangup.headers[ROUTER_ERROR_HEADER], 'backend-unreachable');
    const startedAt = Date.now();
    await assert.rejects(request(router!.port, 'rude.apps.localhost', '/midway'));
    assert.ok(Date.now() - startedAt < 2_000, 'the client learns of the truncation at once');
    assert.equal((await request(router!.port, 'x', '/_router/health')).status, 200);
  });

  it('drains an in-flight request on close (with connection: close), then refuses new connections', async () => {
    let arrived: () => void = () => undefined;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    const slow = http.createServer((_req, res) => {
      arrived();
      setTimeout(() => res.end('slow but done'), 300);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    backends.push({ name: 'slow', port: 0, address: '', seen: [], paths: [], close: () => new Promise((resolve) => slow.close(() => resolve())) });
    await serve('slow.apps.localhost', [{ address: `127.0.0.1:${(slow.address() as net.AddressInfo).port}` }, 'slow-0']);
    const second = await startRouter(
      testRouterConfig(redisProcess!.url, prefix, { shutdownTimeoutMs: 5_000 }),
      { logger: pino({ level: 'silent' }) },
    );
    try {
      await pollUntil('slow route on the second router', async () => ((await request(second.port, 'slow.apps.localhost', '/_router/health')).status === 200 ? true : undefined), { timeoutMs: 5_000 });
      // A keep-alive request, under way when the drain starts: answered, and told the connection ends.
      const inFlight = request(second.port, 'slow.apps.localhost', '/', { connection: 'keep-alive' });
      await requestArrived;
      const closed = second.close();
      const reply = await inFlight;
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'slow but done');
      assert.equal(reply.headers.connection, 'close', 'a draining router ends the keep-alive connection with its answer');
      await closed;
      await assert.rejects(request(second.port, 'slow.apps.localhost'), /ECONNREFUSED/);
    } finally {
      await second.close();
    }
  });

  it('(9) routes a path prefix to its own app, longest prefix on whole segments', async () => {
    const host = 'paths.apps.localhost';
    const a = await startBackend('paths-a');
    const b = await startBackend('paths-b');
    backends.push(a, b);
    await addInstances(instance('paths-a', a, 'paths-a-0'), instance('paths-b', b, 'paths-b-0'));
    await writeHostRoutes(redis, keys, host, [routeTo(host, '', { appId: 'paths-a' }), routeTo(host, '/api', { appId: 'paths-b' })]);
    await pollUntil('the /api route', async () => ((await request(router!.port, host, '/api')).body === 'hello from paths-b' ? true : undefined), { timeoutMs: 5_000 });

    const expected: Array<[path: string, backend: string]> = [
      ['/', 'paths-a'],
      ['/index.html', 'paths-a'],
      ['/apix', 'paths-a'],
      ['/api', 'paths-b'],
      ['/api/', 'paths-b'],
      ['/api/users/7', 'paths-b'],
      ['/api?q=1', 'paths-b'],
    ];
    for (const [path, name] of expected) {
      const reply = await request(router!.port, host, path);
      assert.equal(reply.status, 200, `${path}: ${reply.body}`);
      assert.equal(reply.body, `hello from ${name}`, path);
    }
    // The app sees the path unchanged (no prefix stripping), query string included.
    assert.equal(b.paths.at(-1), '/api?q=1');
    assert.equal(a.paths.at(-1), '/apix');
  });

  it('(10) tells a route bound to no app (404) from one with no instance (503) and an unrouted path (404)', async () => {
    const host = 'mixed.apps.localhost';
    const api = await startBackend('mixed-api');
    backends.push(api);
    await addInstances(instance('mixed-api', api, 'mixed-api-0'));
    await writeHostRoutes(redis, keys, host, [
      routeTo(host, '/api', { appId: 'mixed-api' }),
      routeTo(host, '/admin'),
      routeTo(host, '/empty', { appId: 'mixed-no-instances' }),
    ]);
    assert.equal((await waitForStatus(host, 200, '/api/x')).body, 'hello from mixed-api');

    const unbound = await request(router!.port, host, '/admin/users?x=1');
    assert.equal(unbound.status, 404);
    assert.equal(unbound.headers[ROUTER_ERROR_HEADER], 'route-has-no-destination');
    const body = JSON.parse(unbound.body) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'route-has-no-destination');
    assert.equal(body.error.message, 'route mixed.apps.localhost/admin is not bound to any app: map it to an app with the route-binding API');

    const empty = await request(router!.port, host, '/empty');
    assert.equal(empty.status, 503);
    assert.equal(empty.headers[ROUTER_ERROR_HEADER], 'no-healthy-instance');
    assert.match(empty.body, /mixed\.apps\.localhost\/empty/);

    const unrouted = await request(router!.port, host, '/other');
    assert.equal(unrouted.status, 404);
    assert.equal(unrouted.headers[ROUTER_ERROR_HEADER], 'unknown-route');
    assert.match(unrouted.body, /mixed\.apps\.localhost.*\/other/);

    // A whole-host route bound to nothing: the message names the host alone.
    await writeHostRoutes(redis, keys, 'nodest.apps.localhost', [routeTo('nodest.apps.localhost', '')]);
    const whole = await pollUntil('the unbound whole-host route', async () => {
      const r = await request(router!.port, 'nodest.apps.localhost');
      return r.headers[ROUTER_ERROR_HEADER] === 'unknown-route' ? undefined : r; // not loaded yet
    }, { timeoutMs: 5_000 });
    assert.equal(whole.status, 404);
    assert.equal(whole.headers[ROUTER_ERROR_HEADER], 'route-has-no-destination');
    assert.match(whole.body, /route nodest\.apps\.localhost is not bound to any app/);
  });

  it('(11) splits traffic 3:1 between two weighted apps, exactly', async () => {
    const host = 'weighted.apps.localhost';
    const heavy = await startBackend('weighted-heavy');
    const light = await startBackend('weighted-light');
    backends.push(heavy, light);
    await addInstances(instance('weighted-heavy', heavy, 'weighted-heavy-0'), instance('weighted-light', light, 'weighted-light-0'));
    await writeHostRoutes(redis, keys, host, [routeTo(host, '', { appId: 'weighted-heavy', weight: 3 }, { appId: 'weighted-light', weight: 1 })]);
    await waitForStatus(host, 200);

    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const reply = await request(router!.port, host);
      assert.equal(reply.status, 200, reply.body);
      counts.set(reply.body, (counts.get(reply.body) ?? 0) + 1);
    }
    console.log(`weighted 3:1 over 400 requests: heavy ${counts.get('hello from weighted-heavy')}, light ${counts.get('hello from weighted-light')}`);
    assert.equal(counts.get('hello from weighted-heavy'), 300);
    assert.equal(counts.get('hello from weighted-light'), 100);
  });

  it('(12) applies a binding change fast (prints p50/p99 from write to first routed request)', async () => {
    const host = 'binding.apps.localhost';
    const blue = await startBackend('binding-blue');
    const green = await startBackend('binding-green');
    backends.push(blue, green);
    await addInstances(instance('binding-blue', blue, 'binding-blue-0'), instance('binding-green', green, 'binding-green-0'));
    await writeHostRoutes(redis, keys, host, [routeTo(host, '', { appId: 'binding-blue' })]);
    await pollUntil('the first binding', async () => ((await request(router!.port, host)).body === 'hello from binding-blue' ? true : undefined), { timeoutMs: 5_000 });

    // Keep-alive client so each poll costs one localhost round trip, not a TCP handshake.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: router!.port, path: '/', agent, headers: { host }, timeout: 5_000 }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
      });

    const samples: number[] = [];
    try {
      for (let i = 0; i < 50; i++) {
        const target = i % 2 === 0 ? 'binding-green' : 'binding-blue';
        await writeHostRoutes(redis, keys, host, [routeTo(host, '', { appId: target })]);
        const writtenAt = performance.now();
        const deadline = writtenAt + 5_000;
        let routedAt: number | undefined;
        for (let poll = 0; poll < 50_000 && performance.now() < deadline; poll++) {
          if ((await get()) === `hello from ${target}`) {
            routedAt = performance.now();
            break;
          }
        }
        assert.ok(routedAt !== undefined, `binding change ${i} (to ${target}) not applied within 5 s`);
        samples.push(routedAt - writtenAt);
      }
    } finally {
      agent.destroy();
    }
    samples.sort((x, y) => x - y);
    const percentile = (p: number) => samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)]!;
    console.log(
      `binding change reaches the router: p50 ${percentile(50).toFixed(2)} ms, p99 ${percentile(99).toFixed(2)} ms, max ${samples.at(-1)!.toFixed(2)} ms over ${samples.length} changes (write returned -> first request routed to the new app)`,
    );
    assert.ok(percentile(99) < 1_000, 'binding changes apply within a second');
  });

  it('(8) keeps serving its last table while redis is down, and catches up when it returns', async () => {
    const backend = await startBackend('survivor');
    backends.push(backend);
    await serve('survivor.apps.localhost', [backend, 'survivor-0']);
    await waitForStatus('survivor.apps.localhost', 200);

    redisProcess!.kill();
    await pollUntil('redis to be gone', async () => ((await redis.ping().catch(() => 'down')) === 'down' ? true : undefined), { timeoutMs: 5_000 });
    for (let i = 0; i < 5; i++) {
      const reply = await request(router!.port, 'survivor.apps.localhost');
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'hello from survivor');
    }
    assert.equal((await request(router!.port, 'x', '/_router/health')).status, 200);

    // Redis comes back empty (no persistence): a late host is registered without anyone
    // hearing a message; the resync on reconnect must pick it up.
    await redisProcess!.restart();
    const late = await startBackend('late');
    backends.push(late);
    await pollUntil('the test client to reconnect', async () => ((await redis.ping().catch(() => 'down')) === 'PONG' ? true : undefined), { timeoutMs: 10_000 });
    await serve('late.apps.localhost', [late, 'late-0']);
    const reply = await pollUntil(
      'the router to see the late host',
      async () => {
        const r = await request(router!.port, 'late.apps.localhost');
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 10_000 },
    );
    assert.equal(reply.body, 'hello from late');
  });
});
