/**
 * The presence watch against real Postgres and Redis with cell agents on the fake runtime, with the periodic pass
 * set 10 minutes apart so that only the watch can act: a cell whose presence expires has its
 * instances replaced on a live cell at once; a cell that skips heartbeats for less than the TTL
 * keeps its instances. And the lease the watch and the pass both renew survives two calls at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pollUntil as until } from '@paas/local-services';
import { adminActor, startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { startCellAgent, type CellAgentProcess } from '../testing/cell-agent';
import { pushThroughHook } from '../testing/push';
import { redisKeys } from '@paas/contracts';
import { RedisService } from '../platform/redis/redis.module';
import { LeaderElectionService } from './leader-election.service';

type Instance = { index: number; state: string; cell_id: string; instance_id: string };

describe('presence watch', () => {
  let h: ControllerHarness;
  const cells = new Map<string, CellAgentProcess>();
  const running = async (): Promise<Instance[]> =>
    ((await h.call('GET', '/v1/apps/watched/instances')).body.resources as Instance[]).filter((i) => i.state === 'RUNNING');

  before(async () => {
    h = await startControllerHarness({ PAAS_CONVERGE_INTERVAL_MS: '600000' });
    for (const id of ['watch-a', 'watch-b', 'watch-c']) {
      cells.set(id, await startCellAgent(h, id, { maxContainers: 8, memoryMb: 4096 }));
    }
    assert.equal((await h.call('POST', '/v1/apps', { name: 'watched' })).status, 201);
    const push = await pushThroughHook(h.url, h.internalToken, 'watched', await adminActor(h));
    assert.ok(push.ok, push.text);
    await h.call('POST', '/v1/apps/watched/processes/web/actions/scale', { instances: 3 });
    await until('3 running', async () => (await running()).length === 3);
    // The watch leads (it takes the lease itself, long before the first periodic pass).
    const redis = h.app.get(RedisService);
    await until('a convergence leader', async () => redis.redis.get(redis.keys.convergerLeader));
  });

  after(async () => {
    for (const cell of cells.values()) await cell.stop().catch(() => undefined);
    await h?.stop();
  });

  test('a cell that skips heartbeats for less than its TTL keeps its instances', async () => {
    const before = await running();
    const paused = cells.get(before[0]!.cell_id)!;
    paused.pauseHeartbeat();
    // A few watch reads while it is silent (no expiry: its presence still has seconds to live).
    await new Promise((r) => setTimeout(r, 2_500));
    await paused.resume();
    const after = await running();
    assert.deepEqual(after.map((i) => i.instance_id).sort(), before.map((i) => i.instance_id).sort(), 'the same instances, none replaced');
    const lost = (await h.call('GET', '/v1/events?types=instance-lost')).body.resources;
    assert.equal(lost.length, 0);
  });

  test('a cell whose presence expires has its instances replaced at once, with no periodic pass', async () => {
    const before = await running();
    const lostCell = before[0]!.cell_id;
    const gone = before.filter((i) => i.cell_id === lostCell);
    await cells.get(lostCell)!.expire();
    const after = await until('3 running on live cells', async () => {
      const now = await running();
      return now.length === 3 && now.every((i) => i.cell_id !== lostCell) ? now : undefined;
    });
    assert.deepEqual(after.map((i) => i.index).sort(), [0, 1, 2]);
    for (const g of gone) assert.ok(!after.some((i) => i.instance_id === g.instance_id), 'the lost instance is not listed');
    const lost = (await h.call('GET', '/v1/events?types=instance-lost')).body.resources;
    assert.equal(lost.length, gone.length, 'one instance-lost event per instance of the lost cell');
  });

  test('two lease calls at once (the watch and the pass) both find the lease held', async () => {
    const redis = h.app.get(RedisService);
    // A candidate of its own (another prefix), so the lease is free to take.
    const candidate = new LeaderElectionService({ redis: redis.redis, keys: redisKeys(`${h.redisPrefix}-lease`) } as RedisService);
    const answers = await Promise.all([candidate.tryLead(), candidate.tryLead()]);
    assert.deepEqual(answers, [true, true]);
    assert.equal(candidate.isLeader, true);
    assert.equal(await candidate.tryLead(), true, 'and it renews it');
    await candidate.onModuleDestroy();
  });
});
