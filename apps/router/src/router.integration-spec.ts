/**
 * The router against a real redis-server (started here on a free port, with a unique key prefix)
 * and real HTTP backends on 127.0.0.1. No fixed sleeps: every wait polls with a deadline.
 */
import { redisKeys, ROUTER_ERROR_HEADER, type RouteEndpoint } from '@paas/contracts';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startRouter, type RunningRouter } from './router';

// ---------- helpers ----------

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` until it returns a value (not undefined), at most `timeoutMs`; fails with `what`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let i = 0; i < 1_000 && Date.now() < deadline; i++) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

interface RedisProcess {
  port: number;
  url: string;
  kill(): void;
  restart(): Promise<void>;
}

/** Starts a throwaway redis-server on a free port; `kill` stops it by pid. */
async function startRedisServer(dir: string): Promise<RedisProcess> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const spawnIt = async () => {
    child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await waitFor('redis-server to answer PING', async () => {
        if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
        return (await probe.ping()) === 'PONG' ? true : undefined;
      });
    } finally {
      probe.disconnect();
    }
  };
  await spawnIt();
  const kill = () => {
    if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: spawnIt,
  };
}

interface Backend {
  name: string;
  port: number;
  address: string;
  seen: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A tiny app: answers `hello from <name>` and records the headers it saw. */
async function startBackend(name: string): Promise<Backend> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    const body = createHash('sha256');
    let length = 0;
    req.on('data', (c: Buffer) => {
      body.update(c);
      length += c.length;
    });
    req.on('end', () => res.end(length === 0 ? `hello from ${name}` : `${name} got ${length} bytes ${body.digest('hex')}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A WebSocket echo backend: the server handshake and single small frames, by hand. */
async function startWsEchoBackend(): Promise<Backend> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((_req, res) => res.end('not a websocket'));
  server.on('upgrade', (req, socket: net.Socket) => {
    seen.push(req.headers);
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buffered = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // Client frames are masked; this echo only handles payloads under 126 bytes.
      while (buffered.length >= 6) {
        const opcode = buffered[0]! & 0x0f;
        const length = buffered[1]! & 0x7f;
        if (buffered.length < 6 + length) return;
        const mask = buffered.subarray(2, 6);
        const payload = Buffer.from(buffered.subarray(6, 6 + length).map((b, i) => b ^ mask[i % 4]!));
        buffered = buffered.subarray(6 + length);
        if (opcode === 0x8) {
          socket.end(Buffer.from([0x88, 0x00]));
          return;
        }
        socket.write(Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    name: 'ws-echo',
    port,
    address: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to the router on 127.0.0.1 with the given Host header, on a fresh connection. */
function request(port: number, host: string, path = '/', headers: http.OutgoingHttpHeaders = {}, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const method = body ? 'POST' : 'GET';
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers: { host, ...headers }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

// ---------- the suite ----------

describe('router against a real redis', () => {
  const prefix = `test-router-${randomUUID().slice(0, 8)}`;
  const keys = redisKeys(prefix);
  const dir = mkdtempSync(join(tmpdir(), 'router-redis-'));
  const backends: Backend[] = [];
  let redisProcess: RedisProcess | undefined;
  let redis: Redis;
  let router: RunningRouter | undefined;

  const endpoint = (host: string, backend: { address: string }, instanceId: string, ttlMs = 60_000): RouteEndpoint => ({
    host,
    address: backend.address,
    instanceId,
    appId: `app-${host}`,
    cellId: 'cell-test',
    expiresAt: Date.now() + ttlMs,
  });

  /** Registers endpoints the way a cell does: HSET + SADD, then a change message. */
  async function register(...endpoints: RouteEndpoint[]): Promise<void> {
    for (const e of endpoints) {
      await redis.hset(keys.routeEndpoints(e.host), e.instanceId, JSON.stringify(e));
      await redis.sadd(keys.routeHosts, e.host);
    }
    for (const host of new Set(endpoints.map((e) => e.host))) await redis.publish(keys.routeChanges, JSON.stringify({ host }));
  }

  async function unregister(host: string, instanceId: string): Promise<void> {
    await redis.hdel(keys.routeEndpoints(host), instanceId);
    await redis.publish(keys.routeChanges, JSON.stringify({ host }));
  }

  /** Waits until the router answers `host` with `status`; returns that reply. */
  const waitForStatus = (host: string, status: number, path = '/') =>
    waitFor(`${host} to answer ${status}`, async () => {
      const reply = await request(router!.port, host, path);
      return reply.status === status ? reply : undefined;
    });

  before(async () => {
    redisProcess = await startRedisServer(dir);
    redis = new Redis(redisProcess.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    redis.on('error', () => undefined);
    router = await startRouter(
      {
        port: 0,
        host: '127.0.0.1',
        redisUrl: redisProcess.url,
        redisPrefix: prefix,
        logLevel: 'silent',
        resyncIntervalMs: 30_000,
        connectTimeoutMs: 2_000,
        backendTimeoutMs: 10_000,
        shutdownTimeoutMs: 2_000,
      },
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
    await register(endpoint('one.apps.localhost', backend, 'one-0'));

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

    // A valid incoming request id is kept; X-Forwarded-For is appended to.
    const passed = await request(router!.port, 'one.apps.localhost', '/', { 'x-request-id': 'trace-abc-123', 'x-forwarded-for': '203.0.113.9' });
    assert.equal(passed.headers['x-request-id'], 'trace-abc-123');
    assert.equal(backend.seen.at(-1)!['x-request-id'], 'trace-abc-123');
    assert.equal(backend.seen.at(-1)!['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
  });

  it('(3) balances round-robin over two backends', async () => {
    const a = await startBackend('rr-a');
    const b = await startBackend('rr-b');
    backends.push(a, b);
    await register(endpoint('rr.apps.localhost', a, 'rr-0'), endpoint('rr.apps.localhost', b, 'rr-1'));
    await waitFor('both rr endpoints loaded', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add((await request(router!.port, 'rr.apps.localhost')).body);
      return seen.size === 2 ? true : undefined;
    });
    const bodies: string[] = [];
    for (let i = 0; i < 10; i++) bodies.push((await request(router!.port, 'rr.apps.localhost')).body);
    assert.equal(bodies.filter((x) => x === 'hello from rr-a').length, 5);
    assert.equal(bodies.filter((x) => x === 'hello from rr-b').length, 5);
  });

  it('(4) retries a dead endpoint on a live one, and answers 502 when only dead ones remain', async () => {
    const live = await startBackend('retry-live');
    backends.push(live);
    const dead = { address: `127.0.0.1:${await freePort()}` };
    await register(endpoint('retry.apps.localhost', dead, 'retry-dead'), endpoint('retry.apps.localhost', live, 'retry-live'));
    await waitForStatus('retry.apps.localhost', 200);
    // Make sure both endpoints are in the table before counting.
    await waitFor('the dead endpoint to be loaded', async () => {
      const before = live.seen.length;
      for (let i = 0; i < 2; i++) await request(router!.port, 'retry.apps.localhost');
      return live.seen.length === before + 2 ? true : undefined;
    });
    for (let i = 0; i < 10; i++) {
      const reply = await request(router!.port, 'retry.apps.localhost', '/', { 'x-request-id': `retry-${i}` });
      assert.equal(reply.status, 200, `request ${i}: ${reply.body}`);
      assert.equal(reply.body, 'hello from retry-live');
    }

    // A request body survives the retry: the router reads none of it before a backend connects.
    const payload = Buffer.alloc(256 * 1024, 'x');
    const digest = createHash('sha256').update(payload).digest('hex');
    await register(endpoint('retrypost.apps.localhost', dead, 'retrypost-dead'), endpoint('retrypost.apps.localhost', live, 'retrypost-live'));
    await waitFor('both retrypost endpoints', async () => ((await redis.hlen(keys.routeEndpoints('retrypost.apps.localhost'))) === 2 ? true : undefined));
    for (let i = 0; i < 4; i++) {
      const reply = await waitFor('a POST through the retry', async () => {
        const r = await request(router!.port, 'retrypost.apps.localhost', '/upload', {}, payload);
        return r.status === 404 ? undefined : r; // not loaded yet
      });
      assert.equal(reply.status, 200, reply.body);
      assert.equal(reply.body, `retry-live got ${payload.length} bytes ${digest}`);
    }

    await register(endpoint('deadonly.apps.localhost', dead, 'deadonly-0'));
    const reply = await waitForStatus('deadonly.apps.localhost', 502);
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'backend-unreachable');
    assert.match((JSON.parse(reply.body) as { error: { message: string } }).error.message, /deadonly\.apps\.localhost/);
  });

  it('(5) answers 503 no-healthy-instance for an expired endpoint', async () => {
    const backend = await startBackend('expired');
    backends.push(backend);
    await register({ ...endpoint('expired.apps.localhost', backend, 'expired-0'), expiresAt: Date.now() - 1_000 });
    const reply = await waitForStatus('expired.apps.localhost', 503);
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'no-healthy-instance');
    assert.match(reply.body, /expired\.apps\.localhost/);
    assert.equal(backend.seen.length, 0);
  });

  it('(6) stops routing to a removed endpoint at once (503)', async () => {
    const backend = await startBackend('removed');
    backends.push(backend);
    await register(endpoint('removed.apps.localhost', backend, 'removed-0'));
    await waitForStatus('removed.apps.localhost', 200);
    const removedAt = Date.now();
    await unregister('removed.apps.localhost', 'removed-0');
    const reply = await waitForStatus('removed.apps.localhost', 503);
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'no-healthy-instance');
    assert.ok(Date.now() - removedAt < 2_000, 'the change applies within 2 s');
  });

  it('(7) passes a WebSocket upgrade through', async () => {
    const echo = await startWsEchoBackend();
    backends.push(echo);
    // The built-in client cannot set Host, so this route's host is the literal the client sends.
    await register(endpoint('127.0.0.1', echo, 'ws-0'));
    await waitFor('the ws route', async () => ((await request(router!.port, '127.0.0.1')).status === 200 ? true : undefined));

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
      close: () => new Promise((resolve) => rude.close(() => resolve())),
    });
    await register(endpoint('rude.apps.localhost', { address: `127.0.0.1:${(rude.address() as net.AddressInfo).port}` }, 'rude-0'));
    const hangup = await waitFor('rude route', async () => {
      const r = await request(router!.port, 'rude.apps.localhost', '/hangup');
      return r.status === 404 ? undefined : r;
    });
    assert.equal(hangup.status, 502);
    assert.equal(hangup.headers[ROUTER_ERROR_HEADER], 'backend-unreachable');
    const startedAt = Date.now();
    await assert.rejects(request(router!.port, 'rude.apps.localhost', '/midway'));
    assert.ok(Date.now() - startedAt < 2_000, 'the client learns of the truncation at once');
    assert.equal((await request(router!.port, 'x', '/_router/health')).status, 200);
  });

  it('drains an in-flight request on close, then refuses new connections', async () => {
    let arrived: () => void = () => undefined;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    const slow = http.createServer((_req, res) => {
      arrived();
      setTimeout(() => res.end('slow but done'), 300);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    backends.push({ name: 'slow', port: 0, address: '', seen: [], close: () => new Promise((resolve) => slow.close(() => resolve())) });
    await register(endpoint('slow.apps.localhost', { address: `127.0.0.1:${(slow.address() as net.AddressInfo).port}` }, 'slow-0'));
    const second = await startRouter(
      {
        port: 0,
        host: '127.0.0.1',
        redisUrl: redisProcess!.url,
        redisPrefix: prefix,
        logLevel: 'silent',
        resyncIntervalMs: 30_000,
        connectTimeoutMs: 2_000,
        backendTimeoutMs: 10_000,
        shutdownTimeoutMs: 5_000,
      },
      { logger: pino({ level: 'silent' }) },
    );
    try {
      await waitFor('slow route on the second router', async () => ((await request(second.port, 'slow.apps.localhost', '/_router/health')).status === 200 ? true : undefined));
      const inFlight = request(second.port, 'slow.apps.localhost');
      await requestArrived;
      const closed = second.close();
      const reply = await inFlight;
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'slow but done');
      await closed;
      await assert.rejects(request(second.port, 'slow.apps.localhost'), /ECONNREFUSED/);
    } finally {
      await second.close();
    }
  });

  it('(8) keeps serving its last table while redis is down, and catches up when it returns', async () => {
    const backend = await startBackend('survivor');
    backends.push(backend);
    await register(endpoint('survivor.apps.localhost', backend, 'survivor-0'));
    await waitForStatus('survivor.apps.localhost', 200);

    redisProcess!.kill();
    await waitFor('redis to be gone', async () => ((await redis.ping().catch(() => 'down')) === 'down' ? true : undefined));
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
    await waitFor('the test client to reconnect', async () => ((await redis.ping().catch(() => 'down')) === 'PONG' ? true : undefined), 10_000);
    const e = endpoint('late.apps.localhost', late, 'late-0');
    await redis.hset(keys.routeEndpoints(e.host), e.instanceId, JSON.stringify(e));
    await redis.sadd(keys.routeHosts, e.host);
    await redis.publish(keys.routeChanges, JSON.stringify({ host: e.host }));
    const reply = await waitFor(
      'the router to see the late host',
      async () => {
        const r = await request(router!.port, 'late.apps.localhost');
        return r.status === 200 ? r : undefined;
      },
      10_000,
    );
    assert.equal(reply.body, 'hello from late');
  });
});
