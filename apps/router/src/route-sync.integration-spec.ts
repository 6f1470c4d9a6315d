/**
 * RouteSync against a real redis-server that restarts empty (no persistence): the table it keeps
 * while the controller and the cells write theirs again, and the full sync that still drops what
 * is gone once the table in Redis is complete.
 */
import { endpointSetKey, redisKeys, type Endpoint } from '@paas/contracts';
import { markRoutesProjected, registerEndpoint, writeHostRoutes } from '@paas/redis';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startRedisServer, type RedisProcess } from '@paas/testing';
import { RouteSync } from './route-sync';
import { RouteTable } from './route-table';
import { pollUntil } from '@paas/local-services';

describe('route sync when redis restarts empty or goes away', () => {
  const keys = redisKeys(`test-sync-${randomUUID().slice(0, 8)}`);
  const dir = mkdtempSync(join(tmpdir(), 'route-sync-'));
  let now = Date.now();
  const table = new RouteTable(() => now);
  let redisProcess: RedisProcess;
  let redis: Redis;
  let sync: RouteSync;

  const endpoint = (appId: string, instanceId: string, ttlMs: number): Endpoint => ({
    instanceId,
    appId,
    processType: 'web',
    index: 0,
    address: '127.0.0.1:9',
    cellId: 'cell-a',
    expiresAt: now + ttlMs,
  });
  const route = (host: string, appId: string) => ({
    routeId: `r-${host}`,
    host,
    path: '',
    destinations: [{ id: `d-${host}`, appId, processType: 'web', port: 8080 }],
  });
  const lookup = (host: string) => table.lookup(host, '/').kind;

  before(async () => {
    redisProcess = await startRedisServer(dir);
    redis = new Redis(redisProcess.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on('error', () => undefined);
    sync = new RouteSync({ redisUrl: redisProcess.url, keys, table, logger: pino({ level: 'silent' }), resyncIntervalMs: 60_000 });
    await sync.start(5_000);
  });

  after(async () => {
    await sync?.stop();
    redis?.disconnect();
    redisProcess?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every host and live endpoint until the table is written again, then drops what is gone', async () => {
    for (const name of ['kept', 'gone']) {
      await registerEndpoint(redis, keys, endpoint(`app-${name}`, `i-${name}`, 30_000));
      await writeHostRoutes(redis, keys, `${name}.apps.test`, [route(`${name}.apps.test`, `app-${name}`)]);
    }
    await markRoutesProjected(redis, keys);
    await pollUntil('both hosts routed', async () => (lookup('kept.apps.test') === 'live' && lookup('gone.apps.test') === 'live' ? true : undefined), { timeoutMs: 5_000 });

    redisProcess.kill();
    await redisProcess.restart();
    await pollUntil('the client to reconnect', async () => ((await redis.ping().catch(() => 'down')) === 'PONG' ? true : undefined), { timeoutMs: 10_000 });
    // The router reconnected and read an empty Redis (no mark): nothing is dropped.
    const synced = sync.lastSyncedAt ?? 0;
    await pollUntil('a full sync of the empty redis', async () => ((sync.lastSyncedAt ?? 0) > synced ? true : undefined), { timeoutMs: 10_000 });
    await sync.requestFullSync();
    assert.equal(lookup('kept.apps.test'), 'live');
    assert.equal(lookup('gone.apps.test'), 'live');

    // The controller projects the routes again (the host `gone` was deleted meanwhile, unheard)
    // and the cell of `kept` re-registers; the endpoint of `gone` is not re-registered.
    await registerEndpoint(redis, keys, endpoint('app-kept', 'i-kept', 30_000));
    await writeHostRoutes(redis, keys, 'kept.apps.test', [route('kept.apps.test', 'app-kept')]);
    await markRoutesProjected(redis, keys);
    await sync.requestFullSync();
    assert.equal(lookup('kept.apps.test'), 'live');
    assert.equal(lookup('gone.apps.test'), 'unknown', 'a complete snapshot drops a host it does not hold');
    // An endpoint set missing from the index goes once it expired, not before.
    assert.ok(table.endpointSetKeys().includes(endpointSetKey('app-gone', 'web')));
    now += 31_000;
    await registerEndpoint(redis, keys, endpoint('app-kept', 'i-kept', 30_000));
    await sync.requestFullSync();
    assert.ok(!table.endpointSetKeys().includes(endpointSetKey('app-gone', 'web')));
    assert.equal(lookup('kept.apps.test'), 'live');
  });

  it('does not expire endpoints while redis is down, and gives their cells a grace once it is back', async () => {
    await registerEndpoint(redis, keys, endpoint('app-kept', 'i-kept', 1_000));
    await pollUntil('the short-lived endpoint', async () => (table.hasLiveEndpoints(endpointSetKey('app-kept', 'web')) && lookup('kept.apps.test') === 'live' ? true : undefined), { timeoutMs: 5_000 });
    const seen = sync.lastSyncedAt ?? 0;
    await pollUntil('the endpoint to be read', async () => (await sync.requestFullSync(), (sync.lastSyncedAt ?? 0) > seen ? true : undefined), { timeoutMs: 5_000 });

    redisProcess.kill();
    await pollUntil('the router to notice', async () => (table.silent ? true : undefined), { timeoutMs: 10_000 });
    now += 120_000;
    assert.equal(lookup('kept.apps.test'), 'live', 'no cell can refresh: nothing expires');

    await redisProcess.restart();
    await pollUntil('the router to read redis again', async () => (table.silent ? undefined : true), { timeoutMs: 15_000 });
    assert.equal(lookup('kept.apps.test'), 'live', 'within the grace');
    now += 60_000;
    assert.equal(lookup('kept.apps.test'), 'no-live-endpoint', 'not refreshed within the grace');
  });
});
