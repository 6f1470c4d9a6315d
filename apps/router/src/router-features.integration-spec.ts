/**
 * Sticky sessions, least-connections, 431/504, SSE, WebSocket fd hygiene, instance draining under
 * load and metrics, against a real redis-server and real backends on 127.0.0.1.
 * Every loop is bounded in count and time; waits poll with a deadline.
 */
import { redisKeys, ROUTER_ERROR_HEADER, type Endpoint, type RouteEntry } from '@paas/contracts';
import { registerEndpoint, unregisterEndpoint, writeHostRoutes } from '@paas/redis';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { RouterConfig } from './config';
import { freePort, testRouterConfig } from './integration-test-support';
import { request, startBackend, startRedisServer, startWsEchoBackend, type Backend, type RedisProcess } from '@paas/testing';
import { startRouter, type RunningRouter } from './router';
import { pollUntil } from '@paas/local-services';

/** A backend whose handler the test writes; `close` is graceful (waits for in-flight requests). */
async function startCustomBackend(handler: http.RequestListener): Promise<{ server: http.Server; address: string; closeNow(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    closeNow: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends raw bytes to the router and returns what it answered, up to its close. */
function rawExchange(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(payload));
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', (err) => (data ? resolve(data) : reject(err)));
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer')));
  });
}

const openFds = () => readdirSync('/proc/self/fd').length;

/** The value of a Prometheus sample line `name{labels} value` (labels given as they print), or 0. */
function sample(metrics: string, nameAndLabels: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${nameAndLabels} `));
  return line ? Number(line.slice(nameAndLabels.length + 1)) : 0;
}

describe('router features against a real redis', () => {
  const prefix = `test-features-${randomUUID().slice(0, 8)}`;
  const keys = redisKeys(prefix);
  const dir = mkdtempSync(join(tmpdir(), 'router-features-redis-'));
  const cleanups: Array<() => Promise<void>> = [];
  let redisProcess: RedisProcess | undefined;
  let redis: Redis;
  /** Round-robin router with an admin port. */
  let router: RunningRouter;
  /** Least-connections router with a short backend timeout. */
  let lcRouter: RunningRouter;
  let nextIndex = 0;

  const config = (overrides: Partial<RouterConfig>): RouterConfig => testRouterConfig(redisProcess!.url, prefix, overrides);
  const logger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

  const instance = (appId: string, address: string, instanceId: string): Endpoint => ({
    instanceId,
    appId,
    processType: 'web',
    index: nextIndex++,
    address,
    cellId: 'cell-test',
    expiresAt: Date.now() + 120_000,
  });
  const routeTo = (host: string, appId: string): RouteEntry => ({
    routeId: `route-${host}`,
    host,
    path: '',
    destinations: [{ id: `dest-${host}`, appId, processType: 'web', port: 8080 }],
  });
  /** Registers the instances of app `app-<host>` ([address, instanceId]) and binds the host to it. */
  async function serve(host: string, ...instances: Array<[address: string, instanceId: string]>): Promise<string> {
    const appId = `app-${host}`;
    for (const [address, id] of instances) await registerEndpoint(redis, keys, instance(appId, address, id));
    await writeHostRoutes(redis, keys, host, [routeTo(host, appId)]);
    return appId;
  }
  const waitForRoute = (port: number, host: string, path = '/') =>
    pollUntil(`${host} routed on :${port}`, async () => ((await request(port, host, path)).status === 200 ? true : undefined), { timeoutMs: 5_000 });

  before(async () => {
    redisProcess = await startRedisServer(dir);
    redis = new Redis(redisProcess.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    redis.on('error', () => undefined);
    router = await startRouter(config({ adminPort: await freePort() }), { logger: logger() });
    lcRouter = await startRouter(config({ loadBalancing: 'least-connections', backendTimeoutMs: 300 }), { logger: logger() });
  });

  after(async () => {
    try {
      await router?.close();
      await lcRouter?.close();
      redis?.disconnect();
      for (const cleanup of cleanups) await cleanup();
    } finally {
      redisProcess?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a session on its instance while it lives, then moves it and rewrites the cookie', async () => {
    const host = 'sticky.apps.localhost';
    const names = new Map<string, string>([['sticky-a', 'A'], ['sticky-b', 'B']]);
    const backend = (name: string) =>
      startCustomBackend((req, res) => {
        if (req.url === '/login') res.setHeader('set-cookie', ['JSESSIONID=s3cr3t; Path=/; HttpOnly']);
        res.end(name);
      });
    const a = await backend('A');
    const b = await backend('B');
    cleanups.push(a.closeNow, b.closeNow);
    await serve(host, [a.address, 'sticky-a'], [b.address, 'sticky-b']);
    await waitForRoute(router.port, host);

    const login = await request(router.port, host, '/login');
    const setCookie = login.headers['set-cookie'] ?? [];
    const vcap = setCookie.map((c) => /^__VCAP_ID__=([^;]+)/.exec(c)?.[1]).find(Boolean);
    assert.ok(vcap, `a __VCAP_ID__ cookie is set: ${JSON.stringify(setCookie)}`);
    assert.equal(names.get(vcap), login.body, 'the cookie names the instance that answered');
    assert.ok(setCookie.some((c) => c.startsWith('JSESSIONID=')), "the app's own cookie is kept");

    const cookie = `JSESSIONID=s3cr3t; __VCAP_ID__=${vcap}`;
    const bodies = new Set<string>();
    for (let i = 0; i < 20; i++) bodies.add((await request(router.port, host, '/', { cookie })).body);
    assert.deepEqual([...bodies], [login.body], '20 requests with the cookie land on the same instance');

    await unregisterEndpoint(redis, keys, `app-${host}`, 'web', vcap);
    const moved = await pollUntil('the session to move', async () => {
      const r = await request(router.port, host, '/', { cookie });
      return r.body !== login.body ? r : undefined;
    }, { timeoutMs: 5_000 });
    assert.equal(moved.status, 200);
    const rewritten = (moved.headers['set-cookie'] ?? []).map((c) => /^__VCAP_ID__=([^;]+)/.exec(c)?.[1]).find(Boolean);
    assert.ok(rewritten && rewritten !== vcap, 'the cookie is rewritten to the new instance');
    assert.equal(names.get(rewritten), moved.body);
  });

  it('least-connections sends new requests away from a slow instance with requests in flight', async () => {
    const host = 'leastconn.apps.localhost';
    const held: http.ServerResponse[] = [];
    let fastServed = 0;
    const slow = await startCustomBackend((req, res) => {
      if (req.url === '/ready') res.end('slow');
      else held.push(res);
    });
    const fast = await startCustomBackend((_req, res) => {
      fastServed += 1;
      res.end('fast');
    });
    cleanups.push(slow.closeNow, fast.closeNow);
    await serve(host, [slow.address, 'lc-slow'], [fast.address, 'lc-fast']);
    await waitForRoute(lcRouter.port, host, '/ready');
    await waitForRoute(lcRouter.port, host, '/ready');

    const baseFast = fastServed;
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < 10; i++) {
      const before = held.length + fastServed;
      const reply = request(lcRouter.port, host, '/work');
      pending.push(reply);
      // Polled every 25 ms: the ten must arrive within the 300 ms backend timeout, or the slow one's held requests end (504) and it is free again.
      await pollUntil('the request to reach a backend', async () => (held.length + fastServed > before ? true : undefined), { timeoutMs: 5_000, intervalMs: 25 });
    }
    // The first request may land on the slow instance (both idle); once it holds one, nothing else goes there.
    assert.ok(held.length <= 1, `the slow instance got ${held.length} of 10`);
    assert.ok(fastServed - baseFast >= 9, `the fast instance got ${fastServed - baseFast} of 10`);
    for (const res of held) res.end('slow done');
    await Promise.all(pending);
  });

  it('answers oversized request headers with 431 headers-too-large and keeps running', async () => {
    const raw = await rawExchange(router.port, `GET / HTTP/1.1\r\nHost: big.apps.localhost\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 431/);
    assert.match(raw, /x-paas-router-error: headers-too-large/);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'headers-too-large');
    const text = await rawExchange(router.port, `GET / HTTP/1.1\r\nAccept: text/plain\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
    assert.match(text, /^HTTP\/1\.1 431/);
    assert.equal((await request(router.port, 'x', '/_router/health')).status, 200);
  });

  it('answers a silent backend with 504 backend-timeout', async () => {
    const host = 'silent.apps.localhost';
    const silent = await startCustomBackend((req, res) => {
      if (req.url === '/ready') res.end('ok');
    });
    cleanups.push(silent.closeNow);
    await serve(host, [silent.address, 'silent-0']);
    await waitForRoute(lcRouter.port, host, '/ready');
    const startedAt = Date.now();
    const reply = await request(lcRouter.port, host, '/hang');
    assert.equal(reply.status, 504);
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'backend-timeout');
    assert.ok(Date.now() - startedAt < 3_000);
  });

  it('streams server-sent events without buffering', async () => {
    const host = 'sse.apps.localhost';
    const sse = await startCustomBackend((req, res) => {
      if (req.url === '/ready') return void res.end('ok');
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let n = 0;
      const timer = setInterval(() => res.write(`data: event ${n++}\n\n`), 100);
      const stop = setTimeout(() => {
        clearInterval(timer);
        res.end();
      }, 3_000);
      res.on('close', () => {
        clearInterval(timer);
        clearTimeout(stop);
      });
    });
    cleanups.push(sse.closeNow);
    await serve(host, [sse.address, 'sse-0']);
    await waitForRoute(router.port, host, '/ready');

    const startedAt = performance.now();
    const { firstEventMs, endMs, events } = await new Promise<{ firstEventMs: number; endMs: number; events: number }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: router.port, path: '/events', agent: false, headers: { host, accept: 'text/event-stream' } }, (res) => {
        let firstEventMs = -1;
        let text = '';
        res.on('data', (c: Buffer) => {
          if (firstEventMs < 0) firstEventMs = performance.now() - startedAt;
          text += c.toString();
        });
        res.on('end', () => resolve({ firstEventMs, endMs: performance.now() - startedAt, events: text.split('\n\n').filter(Boolean).length }));
        res.on('error', reject);
      });
      req.setTimeout(10_000, () => req.destroy(new Error('sse timed out')));
      req.on('error', reject);
    });
    assert.ok(firstEventMs >= 0 && firstEventMs < 1_000, `first event after ${firstEventMs} ms`);
    assert.ok(endMs >= 2_500, `the stream stayed open ${endMs} ms`);
    assert.ok(events >= 20, `${events} events`);
  });

  it('leaks no socket or file descriptor over 200 WebSocket connects and abrupt disconnects', async () => {
    const host = 'ws.apps.localhost';
    const echo: Backend = await startWsEchoBackend();
    cleanups.push(echo.close);
    await serve(host, [echo.address, 'ws-fd-0']);
    await pollUntil('the ws route', async () => ((await request(router.port, host)).body === 'not a websocket' ? true : undefined), { timeoutMs: 5_000 });

    const upgradeOnce = () =>
      new Promise<void>((resolve, reject) => {
        const socket = net.connect(router.port, '127.0.0.1', () =>
          socket.write(
            `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.from(randomUUID().slice(0, 16)).toString('base64')}\r\n\r\n`,
          ),
        );
        socket.setTimeout(5_000, () => socket.destroy(new Error('no 101')));
        socket.on('error', reject);
        socket.once('data', (c: Buffer) => {
          if (!c.toString().startsWith('HTTP/1.1 101')) reject(new Error(`not upgraded: ${c.toString().slice(0, 80)}`));
          // Abrupt: no close frame, no FIN handshake (RST when possible).
          socket.resetAndDestroy();
          resolve();
        });
      });
    await upgradeOnce(); // warm up whatever is allocated once
    const baseline = openFds() - echo.openSockets!();
    for (let batch = 0; batch < 10; batch++) await Promise.all(Array.from({ length: 20 }, upgradeOnce));
    // The echo backend ignores the router's FIN (as a careless app may): its half-open sockets are
    // its own, in this process too, so they are left out of the count; the router's must all be gone.
    const routerSide = () => openFds() - echo.openSockets!();
    let last = 0;
    await pollUntil(
      'the router to close the WebSockets',
      async () => {
        last = routerSide();
        return last <= baseline + 5 ? true : undefined;
      },
      { timeoutMs: 10_000 },
    ).catch(() => assert.fail(`fds (backend sockets excluded): ${baseline} before, ${last} after; backend holds ${echo.openSockets!()}`));
  });

  it('drains a removed instance under load with no failed request', async () => {
    const host = 'drain.apps.localhost';
    const served = { a: 0, b: 0 };
    const slowish = (name: 'a' | 'b') =>
      startCustomBackend((_req, res) => {
        served[name] += 1;
        setTimeout(() => res.end(name), 20);
      });
    const a = await slowish('a');
    const b = await slowish('b');
    cleanups.push(a.closeNow, b.closeNow);
    await serve(host, [a.address, 'drain-a'], [b.address, 'drain-b']);
    await waitForRoute(router.port, host);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const failures: string[] = [];
    let total = 0;
    const deadline = Date.now() + 3_000;
    const one = () =>
      new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: router.port, path: '/', agent, headers: { host } }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) failures.push(`status ${res.statusCode} ${String(res.headers[ROUTER_ERROR_HEADER])}`);
            resolve();
          });
          res.on('error', (err) => {
            failures.push(err.message);
            resolve();
          });
        });
        req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
        req.on('error', (err) => {
          failures.push(err.message);
          resolve();
        });
      });
    const client = async () => {
      for (let i = 0; i < 2_000 && Date.now() < deadline; i++) {
        total += 1;
        await one();
      }
    };
    const load = Promise.all([client(), client()]);
    const removal = (async () => {
      await pollUntil('load on both', async () => (served.a > 5 && served.b > 5 ? true : undefined), { timeoutMs: 5_000 });
      await unregisterEndpoint(redis, keys, `app-${host}`, 'web', 'drain-b');
      await new Promise<void>((resolve) => setTimeout(resolve, 500));
      await new Promise<void>((resolve) => b.server.close(() => resolve()));
    })();
    await Promise.all([load, removal]);
    agent.destroy();
    const bAtClose = served.b;
    assert.deepEqual(failures, [], `${failures.length} of ${total} requests failed`);
    assert.ok(total > 50, `${total} requests`);
    assert.equal(served.b, bAtClose);
    assert.ok(served.a > served.b, `a served ${served.a}, b ${served.b}`);
  });

  it('exposes metrics and health on the admin port', async () => {
    const host = 'metrics.apps.localhost';
    const backend = await startBackend('metrics');
    cleanups.push(backend.close);
    const appId = await serve(host, [backend.address, 'metrics-0']);
    await waitForRoute(router.port, host);
    for (let i = 0; i < 5; i++) assert.equal((await request(router.port, host)).status, 200);
    await request(router.port, 'nothing-here.apps.localhost');

    const health = await request(router.adminPort!, 'admin', '/health');
    assert.equal(health.status, 200);
    const body = JSON.parse(health.body) as { status: string; routes: number; table_age_ms: number };
    assert.equal(body.status, 'ok');
    assert.ok(body.routes >= 1 && body.table_age_ms >= 0);

    const metrics = (await request(router.adminPort!, 'admin', '/metrics')).body;
    assert.ok(sample(metrics, `paas_router_requests_total{app_id="${appId}",status_class="2xx"}`) >= 6);
    assert.ok(sample(metrics, 'paas_router_router_errors_total{code="unknown-route"}') >= 1);
    assert.ok(sample(metrics, 'paas_router_request_duration_seconds_count') >= 6);
    assert.ok(sample(metrics, 'paas_router_route_table_hosts') >= 1);
    assert.ok(sample(metrics, 'paas_router_route_table_endpoints') >= 1);
    assert.equal(sample(metrics, 'paas_router_route_table_loaded'), 1);
    assert.match(metrics, /paas_router_route_table_age_seconds \d/);
    assert.match(metrics, /# TYPE paas_router_backend_errors_total counter/);
    assert.match(metrics, /# TYPE paas_router_retries_total counter/);
  });
});
