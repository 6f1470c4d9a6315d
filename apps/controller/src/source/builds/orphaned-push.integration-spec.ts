/**
 * Nothing stuck when a controller dies mid-push: replica A (a process of its own) runs a push and
 * is killed with SIGKILL, as a crash would; replica B (the harness) ends what A left behind
 * within the lease bound (PAAS_LEASE_TTL_MS, short here), the running release stays, and the
 * next push works.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { redisKeys } from '@paas/contracts';
import { createRedisConnection } from '@paas/redis';
import { adminActor, startControllerHarness, type ControllerHarness } from '../../testing/controller-harness';
import { FakeCell, pushThroughHook } from '../../testing/fake-cell';
import { ORPHANED_BUILD_REASON } from './build-sweeper.service';
import { pollUntil } from '@paas/local-services';

const APP = 'orphan';
/** The lease of the test: a dead controller's work is ended within 1.5 × TTL plus two sweeps. */
const LEASE_TTL_MS = 2000;
/** Generous: the polls end as soon as the state is reached. */
const SETTLE_MS = 20_000;

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = SETTLE_MS): Promise<T> => pollUntil(what, probe, { timeoutMs });

describe('a controller killed during a push', () => {
  let h: ControllerHarness;
  let cell: FakeCell;
  let actor: Awaited<ReturnType<typeof adminActor>>;

  before(async () => {
    h = await startControllerHarness({ PAAS_LEASE_TTL_MS: String(LEASE_TTL_MS), PAAS_LEASE_SWEEP_INTERVAL_MS: '200' });
    cell = new FakeCell('fake-orphan', h.redisUrl, h.redisPrefix, h.internalToken);
    await cell.start();
    actor = await adminActor(h);
    assert.equal((await h.call('POST', '/v1/apps', { name: APP })).status, 201);
    const first = await pushThroughHook(h.url, h.internalToken, APP, actor);
    assert.ok(first.ok, first.text);
  });

  after(async () => {
    await cell?.stop();
    await h?.stop();
  });

  const builds = async () => (await h.call('GET', `/v1/apps/${APP}/builds?per_page=100`)).body.resources as Array<{ id: string; state: string; error: string | null }>;
  const currentRelease = async () =>
    ((await h.call('GET', `/v1/apps/${APP}/releases?per_page=100`)).body.resources as Array<{ version: number; current: boolean }>).find((r) => r.current)?.version;
  const failed = (id: string) => until(`build ${id} FAILED`, async () => (await builds()).find((b) => b.id === id && b.state !== 'STAGING'));

  /** Starts a push through a replica process, waits until `ready` says it got far enough, then kills that replica. */
  async function pushAndKill(ready: () => Promise<string | undefined>): Promise<{ buildId: string; push: { ok: boolean; text: string } | Error }> {
    const a = await h.processReplica();
    let ended: { ok: boolean; text: string } | Error | undefined;
    const push = pushThroughHook(a.url, h.internalToken, APP, actor).then(
      (result) => (ended = result),
      (error: Error) => (ended = error),
    );
    try {
      const buildId = await until('the push to get going', async () => {
        if (ended) throw new Error(`the push ended before the replica was killed: ${ended instanceof Error ? ended.message : ended.text}`);
        return ready();
      });
      await a.kill();
      return { buildId, push: await push };
    } finally {
      await a.kill();
    }
  }

  test('mid-staging (the cell took the job and never answers): the build ends FAILED with the reason, its log closed, the release unchanged, and the next push works', async () => {
    const release = await currentRelease();
    const seen = cell.stageJobs.length;
    cell.holdStaging = true;
    try {
      const { buildId, push } = await pushAndKill(async () => cell.stageJobs[seen]?.buildId);
      // The push's connection ended without a result: it is not taken for a success.
      assert.ok(push instanceof Error || !push.ok);

      const build = await failed(buildId);
      assert.equal(build.state, 'FAILED');
      assert.equal(build.error, ORPHANED_BUILD_REASON);
      const log = (await h.call('GET', `/v1/apps/${APP}/builds/${buildId}/log?format=json`)).body;
      assert.equal(log.complete, true);
      assert.equal(log.lines.at(-1).text, `!     ${ORPHANED_BUILD_REASON}`);
      assert.equal(await currentRelease(), release);
    } finally {
      cell.releaseStaging();
    }
    const next = await pushThroughHook(h.url, h.internalToken, APP, actor);
    assert.ok(next.ok, next.text);
    assert.equal(await currentRelease(), (release ?? 0) + 1);
  });

  test('before the cell took the stage job: the job is withdrawn from the cell queue and never staged', async () => {
    const release = await currentRelease();
    await cell.pauseWork();
    const keys = redisKeys(h.redisPrefix);
    const connection = createRedisConnection(h.redisUrl, 'orphan-test-queue');
    const queue = new Queue(keys.cellQueue(cell.id), { connection });
    try {
      const known = new Set((await builds()).map((b) => b.id));
      const { buildId } = await pushAndKill(async () => {
        const fresh = (await builds()).find((b) => !known.has(b.id));
        return fresh && (await queue.getJob(`stage-${fresh.id}`)) ? fresh.id : undefined;
      });
      const build = await failed(buildId);
      assert.equal(build.error, ORPHANED_BUILD_REASON);
      assert.equal(await queue.getJob(`stage-${buildId}`), undefined);

      cell.resumeWork();
      const next = await pushThroughHook(h.url, h.internalToken, APP, actor);
      assert.ok(next.ok, next.text);
      assert.ok(!cell.stageJobs.some((j) => j.buildId === buildId), 'the dead push was staged after all');
      assert.equal(await currentRelease(), (release ?? 0) + 1);
    } finally {
      cell.resumeWork();
      await queue.close();
      connection.disconnect();
    }
  });

  test('mid-deploy (new instances never healthy): the deployment ends FAILED with the reason, the old release keeps its instances, and the next push works', async () => {
    const release = await currentRelease();
    assert.equal((await h.call('PATCH', `/v1/apps/${APP}/processes/web`, { command: 'hang on start' })).status, 200);
    try {
      const deployments = async () =>
        (await h.call('GET', `/v1/apps/${APP}/deployments?per_page=100`)).body.resources as Array<{ id: string; state: string; reason: string | null }>;
      const known = new Set((await deployments()).map((d) => d.id));
      const { buildId } = await pushAndKill(async () => {
        const running = (await deployments()).find((d) => !known.has(d.id) && d.state === 'DEPLOYING');
        const hung = [...cell.running.values()].some((j) => j.startCommand.includes('hang'));
        return running && hung ? (await builds())[0]?.id : undefined;
      });
      const deployment = await until('the deployment to end', async () => (await deployments()).find((d) => !known.has(d.id) && d.state !== 'DEPLOYING'));
      assert.equal(deployment.state, 'FAILED');
      assert.match(deployment.reason ?? '', /the controller running this deployment stopped \(its lease expired\)/);
      assert.equal(await currentRelease(), release);
      // The build had staged: it stays STAGED, and its log is closed with what happened.
      const log = await until('the build log to close', async () => {
        const body = (await h.call('GET', `/v1/apps/${APP}/builds/${buildId}/log?format=json`)).body;
        return body.complete ? body : undefined;
      });
      assert.equal(log.state, 'STAGED');
      assert.match(log.lines.at(-1).text, /the controller running this push stopped \(its lease expired\)/);
      // The convergence loop (no deployment runs any more) removes the hung new instance.
      await until('only instances of the current release', async () => ([...cell.running.values()].every((j) => !j.startCommand.includes('hang')) ? true : undefined));
    } finally {
      assert.equal((await h.call('PATCH', `/v1/apps/${APP}/processes/web`, { command: null })).status, 200);
    }
    const next = await pushThroughHook(h.url, h.internalToken, APP, actor);
    assert.ok(next.ok, next.text);
  });
});
