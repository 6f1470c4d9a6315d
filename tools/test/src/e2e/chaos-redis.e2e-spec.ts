/**
 * Redis is rebuildable: the platform's Redis is restarted EMPTY under a bounded request loop
 * through the router, and routes, cell presence, instances and queues come back on their own from
 * Postgres and the cells; nothing in Postgres changes. While Redis is paused or down, the API's
 * Redis reads answer 503 `redis-unavailable` at once instead of hanging, and recover by themselves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisKeys } from '@paas/contracts';
import { createRedisConnection, listLiveCells } from '@paas/redis';
import { startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { compareSnapshots, deployChaosApp, pushChaosApp, snapshotState, type InstanceView } from './chaos-support';
import { api, trafficLoop } from './test-platform';
import { pollUntil } from '@paas/local-services';

/** A request that must answer within `ms`; the status and how long it took. */
async function timed(platform: TestPlatform, path: string, ms = 10_000) {
  const started = Date.now();
  const res = await fetch(`${platform.apiUrl}${path}`, {
    headers: { authorization: `Bearer ${platform.adminToken}` },
    signal: AbortSignal.timeout(ms),
  });
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
  return { status: res.status, code: body?.error?.code, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
}

describe('Redis restarted empty, paused and stopped', () => {
  let platform: TestPlatform;
  let work: string;
  let probe: ReturnType<typeof createRedisConnection>;
  const host = () => `rebuild.${platform.appsDomain}`;
  const instances = async (): Promise<InstanceView[]> => (await api(platform, 'GET', '/v1/apps/rebuild/instances')).json.resources;
  const redisProcess = () => platform.processes.get('redis')!;
  /** Start-instance jobs in the cells' queues (BullMQ job hashes `bull:<queue>:start-<id>`). */
  const startJobs = async () => (await probe.keys(`bull:${platform.tag}-cell-*:start-*`)).filter((k) => /:start-[0-9a-f]+$/.test(k));

  /** Stops the platform's Redis, removes its data (not its ACL), starts it on the same port; when it was started. */
  const restartRedisEmpty = async (): Promise<number> => {
    const redis = redisProcess();
    await redis.stop();
    await rm(join(platform.dataDir, 'redis', 'appendonlydir'), { recursive: true, force: true });
    await rm(join(platform.dataDir, 'redis', 'dump.rdb'), { force: true });
    redis.start();
    const restartedAt = Date.now();
    await pollUntil('the probe to reconnect', async () => (await probe.ping()) === 'PONG', { timeoutMs: 20_000 });
    return restartedAt;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-chaos-redis-'));
    platform = await startIsolatedPlatform(2);
    probe = createRedisConnection(platform.redisUrl, 'chaos-redis-probe');
    await deployChaosApp(platform, work, 'rebuild', 2, { GREETING: 'kept' });
  });

  after(async () => {
    const redis = platform?.processes.get('redis');
    if (redis?.pid) process.kill(redis.pid, 'SIGCONT');
    probe?.disconnect();
    const leftovers = await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, []);
  });

  test('routes, presence, instances and queues come back from Postgres and the cells; requests keep succeeding', async () => {
    const keys = redisKeys(platform.tag);
    const before = await snapshotState(platform);
    const appId = (await api(platform, 'GET', '/v1/apps/rebuild')).json.id as string;
    const running = (await instances()).filter((i) => i.state === 'RUNNING').map((i) => i.instance_id).sort();
    assert.equal(running.length, 2);

    const sentinel = `${platform.tag}:chaos-sentinel`;
    await probe.set(sentinel, '1');
    const loop = trafficLoop(platform, host(), { maxRequests: 20_000, maxMs: 60_000 });
    await pollUntil('the loop to get answers', async () => loop.bodies.size > 0, { timeoutMs: 10_000 });
    const restartedAt = await restartRedisEmpty();
    assert.equal(await probe.exists(sentinel), 0, 'redis came back empty');

    const since = () => Date.now() - restartedAt;
    const routesMs = await pollUntil('the routes to be projected again', async () => (await probe.exists(keys.routesProjected, keys.hostRoutes(host()))) === 2 && since(), { timeoutMs: 30_000 });
    const presenceMs = await pollUntil('both cells present', async () => (await listLiveCells(probe, keys)).length === 2 && since(), { timeoutMs: 30_000 });
    const instancesMs = await pollUntil(
      'both instances reported again',
      async () => {
        const now = (await instances()).filter((i) => i.state === 'RUNNING').map((i) => i.instance_id).sort();
        return JSON.stringify(now) === JSON.stringify(running) && since();
      },
      { timeoutMs: 30_000 },
    );
    const endpointsMs = await pollUntil('both endpoints registered again', async () => (await probe.hlen(keys.endpoints(appId, 'web'))) === 2 && since(), { timeoutMs: 30_000 });
    // Past the convergence pause: the running instances were kept, nothing was started twice.
    await new Promise((r) => setTimeout(r, Math.max(0, 16_000 - since())));
    const result = await loop.end();
    const total = result.ok + result.failures.length;
    console.log(
      `redis restarted empty: ${result.failures.length} failed of ${total} requests through the router; back after: ` +
        `routes ${routesMs} ms, presence ${presenceMs} ms, instances ${instancesMs} ms, endpoints ${endpointsMs} ms`,
    );
    assert.deepEqual(result.failures, [], 'every request through the router succeeded');
    assert.deepEqual((await instances()).map((i) => i.instance_id).sort(), running, 'the same two instances, none replaced or doubled');
    assert.deepEqual(await startJobs(), [], 'convergence started no instance while the cells re-reported');
    assert.deepEqual(compareSnapshots(before, await snapshotState(platform)), [], 'Postgres is unchanged');

    // The queues work again: a scale places a third instance through its cell's new queue.
    assert.equal((await api(platform, 'POST', '/v1/apps/rebuild/processes/web/actions/scale', { instances: 3 })).status, 202);
    await pollUntil('three instances running', async () => (await instances()).filter((i) => i.state === 'RUNNING').length === 3, { timeoutMs: 60_000 });
    await pollUntil('the router to reach the third', async () => {
      const bodies = new Set<string>();
      const sample = trafficLoop(platform, host(), { maxRequests: 30, maxMs: 5_000 });
      const { bodies: seen } = await sample.end();
      for (const body of seen.keys()) bodies.add(body.trim());
      return [...bodies].some((b) => b.startsWith('instance 2 '));
    }, { timeoutMs: 30_000 });
  });

  test('a push whose staging Redis loses (restarted empty) still goes live', async () => {
    const pushing = pushChaosApp(platform, work, 'rebuild', 'v2');
    await pollUntil('the build to be staging', async () => (await api(platform, 'GET', '/v1/apps/rebuild/builds?per_page=1')).json.resources[0]?.state === 'STAGING', { timeoutMs: 30_000 });
    await restartRedisEmpty();
    const push = await pushing;
    assert.equal(push.code, 0, push.output);
    // Which way the staging survived depends on timing; the log says.
    const controllerLog = await readFile(join(platform.dataDir, 'logs', 'controller.log'), 'utf8');
    console.log(`push across the restart: stage job queued again: ${controllerLog.includes('stage-job-requeued')}`);
    await pollUntil('the new release through the router', async () => {
      const { bodies } = await trafficLoop(platform, host(), { maxRequests: 10, maxMs: 5_000 }).end();
      return [...bodies.keys()].some((b) => b.startsWith('v2 '));
    }, { timeoutMs: 30_000 });
  });

  test('while Redis is paused or down the API answers 503 redis-unavailable at once, and recovers by itself', async () => {
    const redis = redisProcess();
    const paths = ['/v1/apps/rebuild/instances', '/v1/apps/rebuild/logs?recent=true', '/v1/cells'];
    for (const path of paths) assert.equal((await timed(platform, path)).status, 200, path);

    process.kill(redis.pid!, 'SIGSTOP');
    try {
      for (const path of paths) {
        const r = await timed(platform, path);
        console.log(`redis paused: ${path} answered ${r.status} in ${r.ms} ms`);
        assert.deepEqual([r.status, r.code, r.retryAfter], [503, 'redis-unavailable', '5'], path);
      }
      // The log stream fails before its first byte, as JSON.
      const stream = await timed(platform, '/v1/apps/rebuild/logs/stream');
      assert.deepEqual([stream.status, stream.code], [503, 'redis-unavailable']);
    } finally {
      process.kill(redis.pid!, 'SIGCONT');
    }
    for (const path of paths) await pollUntil(`${path} to answer again`, async () => (await timed(platform, path)).status === 200, { timeoutMs: 20_000 });

    await redis.stop();
    try {
      for (const path of paths) {
        const r = await timed(platform, path);
        console.log(`redis stopped: ${path} answered ${r.status} in ${r.ms} ms`);
        assert.deepEqual([r.status, r.code], [503, 'redis-unavailable'], path);
      }
    } finally {
      redis.start();
    }
    for (const path of paths) await pollUntil(`${path} to answer after the restart`, async () => (await timed(platform, path)).status === 200, { timeoutMs: 30_000 });
  });
});
