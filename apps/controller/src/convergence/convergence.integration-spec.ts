/**
 * The convergence loop against real Postgres and Redis with real cell agents on the fake runtime
 * (testing/cell-agent.ts): crashed instances come
 * back (with their crash count), a lost cell's instances are replaced, a drained cell is emptied
 * with replacements first, an instance that fits nowhere is reported unplaced with the reason,
 * and only one replica leads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { crashFakeInstance, startCellAgent, type CellAgentProcess } from '../testing/cell-agent';
import { pushThroughHook } from '../testing/push';
import { listLiveCells } from '@paas/redis';
import { PrismaService } from '../platform/database/prisma.service';
import { RedisService } from '../platform/redis/redis.module';
import { pollUntil as until } from '@paas/local-services';

type Instance = { index: number; state: string; cell_id: string; address: string | null; instance_id: string; crash_count: number; last_crash_reason: string | null; unplaced_reason: string | null };

describe('convergence', () => {
  let h: ControllerHarness;
  const cells = new Map<string, CellAgentProcess>();
  const instances = async (app: string): Promise<Instance[]> => (await h.call('GET', `/v1/apps/${app}/instances`)).body.resources;
  const running = async (app: string) => (await instances(app)).filter((i) => i.state === 'RUNNING');

  before(async () => {
    h = await startControllerHarness();
    for (const [id, zone] of [['fake-a', 'z1'], ['fake-b', 'z2'], ['fake-c', 'z1']] as const) {
      cells.set(id, await startCellAgent(h, id, { maxContainers: 4, memoryMb: 2048, zone }));
    }
    const prisma = h.app.get(PrismaService);
    const admin = await prisma.user.findUniqueOrThrow({ where: { name: 'admin' } });
    assert.equal((await h.call('POST', '/v1/apps', { name: 'conv' })).status, 201);
    const push = await pushThroughHook(h.url, h.internalToken, 'conv', { userId: admin.id, name: 'admin', isAdmin: true });
    assert.ok(push.ok, push.text);
    await h.call('POST', '/v1/apps/conv/processes/web/actions/scale', { instances: 3 });
    await until('3 running', async () => (await running('conv')).length === 3);
  });

  after(async () => {
    for (const cell of cells.values()) await cell.stop().catch(() => undefined);
    await h?.stop();
  });

  test('instances spread over both zones', async () => {
    const zones = new Set((await running('conv')).map((i) => cells.get(i.cell_id)!.zone));
    assert.deepEqual([...zones].sort(), ['z1', 'z2']);
  });

  test('a crashed instance is restarted, and the API shows its crash count and reason', async () => {
    const victim = (await running('conv')).find((i) => i.index === 1)!;
    await crashFakeInstance(victim.address!, { oom: true, status: 137 });
    const back = await until('index 1 running again', async () => {
      const i = (await running('conv')).find((x) => x.index === 1 && x.instance_id !== victim.instance_id);
      return i;
    });
    assert.equal(back.crash_count, 1);
    // The real agent's words for an OOM kill (apps/cell/src/exit-reason.ts describeExit), with the process's limit.
    const memoryMb = (await h.call('GET', '/v1/apps/conv/processes/web')).body.memory_mb;
    assert.equal(back.last_crash_reason, `out of memory (killed at its ${memoryMb} MB limit)`);
    const events = (await h.call('GET', '/v1/events?types=instance-crashed')).body.resources;
    assert.ok(events.length >= 1);
  });

  test('the instances of a lost cell are replaced on live cells', async () => {
    const before = await running('conv');
    const lostCell = before[0].cell_id;
    // Gone as a host that died: no withdrawal, its presence expired (it stays paused until after()).
    await cells.get(lostCell)!.expire();
    const after = await until('3 running on live cells', async () => {
      const now = await running('conv');
      return now.length === 3 && now.every((i) => i.cell_id !== lostCell) ? now : undefined;
    });
    assert.deepEqual(after.map((i) => i.index).sort(), [0, 1, 2]);
    const lost = (await h.call('GET', '/v1/events?types=instance-lost')).body.resources;
    assert.ok(lost.length >= 1);
  });

  test('a drained cell is emptied: replacements start elsewhere first', async () => {
    cells.set('fake-d', await startCellAgent(h, 'fake-d', { maxContainers: 4, memoryMb: 2048, zone: 'z2' }));
    const target = (await running('conv'))[0].cell_id;
    const drain = await h.call('POST', `/v1/cells/${target}/actions/drain`);
    assert.equal(drain.status, 202, JSON.stringify(drain.body));
    let sawGap = false;
    await until('nothing left on the drained cell', async () => {
      const now = await running('conv');
      if (new Set(now.map((i) => i.index)).size < 3) sawGap = true;
      return now.length === 3 && now.every((i) => i.cell_id !== target);
    });
    assert.equal(sawGap, false, 'every index kept a running instance during the drain');
    // The drained agent itself reports no instance left (its presence, at its next heartbeat).
    const redis = h.app.get(RedisService);
    await until('the drained cell to report no instance', async () =>
      (await listLiveCells(redis.redis, redis.keys)).find((c) => c.id === target)?.instances === 0);
    const notAdmin = await h.call('POST', `/v1/cells/${target}/actions/drain`, undefined, 'wrong');
    assert.equal(notAdmin.status, 401);
  });

  test('an instance that fits nowhere stays unplaced with the reason', async () => {
    const scale = await h.call('POST', '/v1/apps/conv/processes/web/actions/scale', { instances: 40 });
    assert.equal(scale.status, 202);
    const unplaced = await until('unplaced instances reported', async () => {
      const all = await instances('conv');
      const u = all.filter((i) => i.state === 'UNPLACED');
      return u.length > 0 ? u : undefined;
    });
    assert.match(unplaced[0].unplaced_reason ?? '', /full|needs/);
    await h.call('POST', '/v1/apps/conv/processes/web/actions/scale', { instances: 2 });
    await until('back to 2 and nothing unplaced', async () => {
      const all = await instances('conv');
      return all.filter((i) => i.state === 'RUNNING').length === 2 && !all.some((i) => i.state === 'UNPLACED');
    });
  });

  test('a memory limit larger than any cell fails the deployment with the sizes named', async () => {
    const scale = await h.call('POST', '/v1/apps/conv/processes/web/actions/scale', { memory_mb: 4096 });
    assert.equal(scale.status, 202);
    const deployment = await until('the deployment to fail', async () => {
      const d = (await h.call('GET', '/v1/apps/conv/deployments?per_page=1')).body.resources[0];
      return d.state === 'FAILED' ? d : undefined;
    });
    assert.match(deployment.reason, /needs 4096 MB, largest free \d+ MB/);
    assert.equal((await running('conv')).length, 2, 'the old instances keep running');
  });

  test('only one replica leads the convergence loop', async () => {
    const replica = await h.replica();
    const redis = h.app.get(RedisService);
    const leader = await until('a leader', async () => redis.redis.get(redis.keys.convergerLeader));
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(await redis.redis.get(redis.keys.convergerLeader), leader, 'the lease stays with one replica');
    await replica.close();
  });
});
