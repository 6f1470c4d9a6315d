/** Two controller replicas on one Postgres and Redis: the same view, and no work done twice. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { startCellAgent, type CellAgentProcess } from '../testing/cell-agent';
import { pushThroughHook } from '../testing/push';
import { PrismaService } from '../platform/database/prisma.service';
import { pollUntil } from '@paas/local-services';

describe('two controller replicas', () => {
  let h: ControllerHarness;
  let b: Awaited<ReturnType<ControllerHarness['replica']>>;
  let cell: CellAgentProcess;

  before(async () => {
    h = await startControllerHarness();
    b = await h.replica();
    cell = await startCellAgent(h, 'fake-r');
  });

  after(async () => {
    await cell?.stop();
    await h?.stop();
  });

  test('an app created through one replica is served by the other, and a name is taken only once', async () => {
    const [x, y] = await Promise.all([h.call('POST', '/v1/apps', { name: 'twin' }), b.call('POST', '/v1/apps', { name: 'twin' })]);
    assert.deepEqual([x.status, y.status].sort(), [201, 409]);
    assert.equal((await b.call('GET', '/v1/apps/twin')).status, 200);
  });

  test('concurrent scales through both replicas place exactly one instance per index', async () => {
    const prisma = h.app.get(PrismaService);
    const admin = await prisma.user.findUniqueOrThrow({ where: { name: 'admin' } });
    const push = await pushThroughHook(h.url, h.internalToken, 'twin', { userId: admin.id, name: 'admin', isAdmin: true });
    assert.ok(push.ok, push.text);
    const calls = [h, b, h, b, h, b].map((r, i) => r.call('POST', '/v1/apps/twin/processes/web/actions/scale', { instances: 3 + (i % 2) }));
    const results = await Promise.all(calls);
    assert.ok(results.every((r) => r.status === 202));
    const desired = (await h.call('GET', '/v1/apps/twin/processes/web')).body.instances as number;
    let indexes: number[] = [];
    // On a timeout the assertion below shows what ran.
    await pollUntil(`${desired} instances running`, async () => {
      indexes = ((await b.call('GET', '/v1/apps/twin/instances')).body.resources as Array<{ index: number; state: string }>)
        .filter((i) => i.state === 'RUNNING')
        .map((i) => i.index)
        .sort();
      return indexes.length === desired;
    }, { timeoutMs: 10_000 }).catch(() => undefined);
    assert.deepEqual(indexes, Array.from({ length: desired }, (_, i) => i));
  });

  test('concurrent env changes through both replicas: each accepted one makes exactly one release', async () => {
    const before = (await h.call('GET', '/v1/apps/twin/releases')).body.pagination.total_results as number;
    const [x, y] = await Promise.all([h.call('PATCH', '/v1/apps/twin/env', { var: { A: '1' } }), b.call('PATCH', '/v1/apps/twin/env', { var: { B: '2' } })]);
    const accepted = [x, y].filter((r) => r.status === 202).length;
    assert.ok(accepted >= 1 && [x, y].every((r) => r.status === 202 || r.status === 409));
    const after = (await b.call('GET', '/v1/apps/twin/releases')).body.pagination.total_results as number;
    assert.equal(after, before + accepted);
  });
});
