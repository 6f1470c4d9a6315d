/**
 * The controller when Redis loses its data (every key of the platform gone, as after a restart
 * without persistence or a flush) and when Redis is out of reach, against a real controller on a
 * private Postgres and Redis: the routes come back from Postgres, convergence pauses on every
 * replica, and API reads of Redis answer 503 at once instead of hanging.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisKeys } from '@paas/contracts';
import { listHostRoutes } from '@paas/redis';
import { startControllerHarness, type ControllerHarness } from '../../testing/controller-harness';
import { createOrg, createSpace, expectStatus } from '../../testing/tenancy-fixtures';
import { pollUntil } from '@paas/local-services';

/** A check that throws (Redis or the API down) is tried again, as pollUntil does. */
const until = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> => pollUntil(what, check, { timeoutMs, intervalMs: 50 });

describe('the controller when Redis loses its data or is out of reach', () => {
  let h: ControllerHarness;
  let redis: Redis;
  let host: string;

  before(async () => {
    h = await startControllerHarness();
    redis = new Redis(h.redisUrl, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    const space = await createSpace(h, await createOrg(h, 'rebuild-org'), 'rebuild');
    expectStatus(await h.call('POST', '/v1/apps', { name: 'rebuilt', space_id: space }), 201);
    const domains = expectStatus(await h.call('GET', '/v1/domains'), 200).body.resources as Array<{ name: string; default: boolean }>;
    host = `rebuilt.${domains.find((d) => d.default)!.name}`;
  });

  after(async () => {
    redis?.disconnect();
    await h?.stop();
  });

  it('projects every route again and pauses convergence once Redis lost its keys', async () => {
    const keys = redisKeys(h.redisPrefix);
    await until('the first projection', async () => ((await redis.exists(keys.routesProjected)) === 1 ? true : undefined));
    assert.equal((await listHostRoutes(redis, keys, host)).length, 1);
    assert.equal(await redis.exists(keys.redisRebuilt), 0, 'no loss yet');

    // Every key of the platform goes, as when Redis restarts empty.
    for (let cursor = '0', first = true; first || cursor !== '0'; first = false) {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${h.redisPrefix}:*`, 'COUNT', 1000);
      if (found.length) await redis.del(...found);
      cursor = next;
    }
    await until('the routes projected again', async () => ((await listHostRoutes(redis, keys, host)).length === 1 ? true : undefined));
    assert.equal(await redis.exists(keys.routesProjected), 1, 'the mark is back with the projection');
    const ttl = await redis.pttl(keys.redisRebuilt);
    assert.ok(ttl > 0, `convergence pauses on every replica while the cells re-report (ttl ${ttl} ms)`);
  });

  it('answers 503 redis-unavailable at once while Redis is down, and 200 again once it is back', async () => {
    const paths = ['/v1/apps/rebuilt/instances', '/v1/apps/rebuilt/logs', '/v1/cells'];
    for (const path of paths) expectStatus(await h.call('GET', path), 200, path);
    await h.dataServices.redis.stop();
    try {
      for (const path of paths) {
        // Before, these waited for Redis: a hang fails here instead of stalling the suite.
        const res = await Promise.race([
          h.call('GET', path),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${path} did not answer within 10 s`)), 10_000).unref()),
        ]);
        assert.equal(res.status, 503, path);
        assert.equal((res.body as { error: { code: string } }).error.code, 'redis-unavailable', path);
        assert.equal(res.headers.get('retry-after'), '5', path);
      }
    } finally {
      h.dataServices.redis.start();
    }
    for (const path of paths) await until(`${path} answering again`, async () => ((await h.call('GET', path)).status === 200 ? true : undefined), 20_000);
  });
});
