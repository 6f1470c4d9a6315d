/** The app row lock against a real Postgres: the row as locked, and two holders one after the other. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { pollUntil } from '@paas/local-services';
import { startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { PrismaService } from '../platform/database/prisma.service';
import { lockApp, withAppLock } from './app-lock';

describe('withAppLock', () => {
  let h: ControllerHarness;
  let prisma: PrismaService;
  let appId: string;

  before(async () => {
    h = await startControllerHarness();
    prisma = h.app.get(PrismaService);
    const created = await h.call('POST', '/v1/apps', { name: 'locked-app' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    appId = created.body.id as string;
    await prisma.app.update({ where: { id: appId }, data: { env: { GREETING: 'hi' } } });
  });

  after(async () => {
    await h?.stop();
  });

  test('gives the work the row as it is under the lock, and undefined for an app that is gone', async () => {
    const seen = await withAppLock(prisma, appId, async (_tx, app) => app);
    assert.deepEqual(seen, { env: { GREETING: 'hi' }, state: 'STARTED', currentReleaseId: null });
    assert.equal(await withAppLock(prisma, randomUUID(), async (_tx, app) => app), undefined);
  });

  test('a second holder of one app waits until the first has committed, and sees its write', async () => {
    const order: string[] = [];
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstHolds!: () => void;
    const firstHasLock = new Promise<void>((resolve) => (firstHolds = resolve));
    const first = withAppLock(prisma, appId, async (tx) => {
      order.push('first locked');
      firstHolds();
      await firstMayEnd;
      await tx.app.update({ where: { id: appId }, data: { env: { GREETING: 'changed by the first' } } });
      order.push('first done');
    });
    await firstHasLock;
    const second = prisma.$transaction(async (tx) => {
      const app = await lockApp(tx, appId);
      order.push('second locked');
      return app?.env;
    });
    let secondDone = false;
    void second.then(() => (secondDone = true), () => undefined);
    // Postgres itself says the second transaction waits for a row lock of the first.
    await pollUntil('the second holder to wait for the row lock', async () => {
      const waiting = await prisma.$queryRaw<Array<{ n: bigint }>>`
        SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM apps WHERE id = %FOR UPDATE%'`;
      return Number(waiting[0]?.n ?? 0) > 0;
    }, { timeoutMs: 10_000, intervalMs: 20 });
    assert.equal(secondDone, false, 'the second holder must wait for the first');
    releaseFirst();
    await first;
    assert.deepEqual(await second, { GREETING: 'changed by the first' });
    assert.deepEqual(order, ['first locked', 'first done', 'second locked']);
  });
});
