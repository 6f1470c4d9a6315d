/**
 * The router's RTR lines in the apps' logs, against a real redis-server and a real backend: a
 * proxied request adds one line to its app's stream, tagged RTR/0; a flood is cut by the per-app
 * rate limit, with one marker line, while another app's lines still pass.
 */
import { redisKeys, type Endpoint, type RouteEntry } from '@paas/contracts';
import { readRecentAppLogs, registerEndpoint, writeHostRoutes } from '@paas/redis';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startRouter, type RunningRouter } from './router';
import { testRouterConfig } from './integration-test-support';
import { request, startBackend, startRedisServer, type Backend, type RedisProcess } from '@paas/testing';
import { pollUntil } from '@paas/local-services';

describe('router access lines in the apps logs (real redis)', () => {
  const prefix = `test-rtr-log-${randomUUID().slice(0, 8)}`;
  const keys = redisKeys(prefix);
  const dir = mkdtempSync(join(tmpdir(), 'router-app-log-'));
  let redisProcess: RedisProcess | undefined;
  let redis: Redis;
  let router: RunningRouter | undefined;
  let backend: Backend | undefined;

  const serve = async (host: string, appId: string) => {
    const endpoint: Endpoint = { instanceId: `${appId}-0`, appId, processType: 'web', index: 0, address: backend!.address, cellId: 'c', expiresAt: Date.now() + 60_000 };
    await registerEndpoint(redis, keys, endpoint);
    const route: RouteEntry = { routeId: `r-${host}`, host, path: '', destinations: [{ id: `d-${host}`, appId, processType: 'web', port: 8080 }] };
    await writeHostRoutes(redis, keys, host, [route]);
    await pollUntil(`${host} to be routed`, async () => ((await request(router!.port, host, '/warmup')).status === 200 ? true : undefined), { timeoutMs: 5_000 });
  };

  before(async () => {
    redisProcess = await startRedisServer(dir);
    redis = new Redis(redisProcess.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    backend = await startBackend('logged');
    router = await startRouter(
      testRouterConfig(redisProcess.url, prefix, { appLogs: { maxLines: 1000, ttlSeconds: 600, ratePerSecond: 5, burst: 20 } }),
      { logger: pino({ level: 'silent' }) },
    );
  });

  after(async () => {
    try {
      await router?.close();
      redis?.disconnect();
      await backend?.close();
    } finally {
      redisProcess?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes one RTR/0 line per proxied request to the app it reached', async () => {
    await serve('logged.apps.test', 'app-logged');
    const reply = await request(router!.port, 'logged.apps.test', '/hello?secret=x', { 'user-agent': 'probe/1.0' });
    assert.equal(reply.status, 200);
    const requestId = String(reply.headers['x-request-id']);
    const line = await pollUntil('the access line', async () => {
      const entries = await readRecentAppLogs(redis, keys, 'app-logged', 100);
      return entries.find((e) => e.text.includes('"GET /hello HTTP/1.1"'));
    }, { timeoutMs: 5_000 });
    assert.equal(line.source, 'RTR/0');
    assert.equal(line.stream, 'OUT');
    assert.match(line.text, /^logged\.apps\.test - \[\d{4}-\d\d-\d\dT[^\]]+\] "GET \/hello HTTP\/1\.1" 200 0 \d+ "-" "probe\/1\.0" /);
    assert.doesNotMatch(line.text, /secret/, 'the query string stays out');
    assert.match(line.text, /app_id:"app-logged" app_index:"0"/);
    assert.match(line.text, /response_time:\d+\.\d{6}/);
    assert.ok(line.text.includes(`vcap_request_id:"${requestId}"`), line.text);
    const unknown = await request(router!.port, 'nobody.apps.test');
    assert.equal(unknown.status, 404);
  });

  it('rate-limits one app, with a marker line, without starving another', async () => {
    await serve('flood.apps.test', 'app-flood');
    await serve('calm.apps.test', 'app-calm');
    for (let i = 0; i < 60; i++) await request(router!.port, 'flood.apps.test', `/f${i}`);
    await request(router!.port, 'calm.apps.test', '/calm');
    await pollUntil('the calm app line', async () =>
      (await readRecentAppLogs(redis, keys, 'app-calm', 100)).some((e) => e.text.includes('GET /calm ')) ? true : undefined, { timeoutMs: 5_000 },
    );
    // The marker comes once the limiter's 5 s window closes.
    const marker = await pollUntil(
      'the rate limit marker',
      async () => (await readRecentAppLogs(redis, keys, 'app-flood', 1000)).find((e) => e.text.startsWith('app log rate limit')),
      { timeoutMs: 10_000 },
    );
    const lines = (await readRecentAppLogs(redis, keys, 'app-flood', 1000)).filter((e) => / "GET \/f\d+ /.test(e.text));
    const dropped = Number(/: (\d+) lines? dropped/.exec(marker.text)?.[1]);
    assert.ok(lines.length >= 19 && lines.length < 60, `${lines.length} lines kept`);
    assert.equal(lines.length + dropped, 60, 'every request is either logged or counted');
    assert.equal(marker.source, 'RTR/0');
    assert.equal(marker.stream, 'ERR');
    assert.match(marker.text, /the router writes at most 5 lines\/s per app, bursts of 20/);
  });
});
