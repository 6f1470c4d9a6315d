/**
 * Nothing stuck when a controller dies mid-push: replica A (a process of its own) runs a push and
 * is killed with SIGKILL, as a crash would; replica B (the harness) ends what A left behind
 * within the lease bound (PAAS_LEASE_TTL_MS, short here), the running release stays, and the
 * next push works. The cell is the real agent on the fake runtime (testing/cell-agent.ts; its
 * `slow` buildpack and `hang` command as apps/cell/src/fake-behaviours.ts says).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { CellJobName, redisKeys } from '@paas/contracts';
import { createRedisConnection, listAppInstances } from '@paas/redis';
import { adminActor, startControllerHarness, type ControllerHarness } from '../../testing/controller-harness';
import { startCellAgent, type CellAgentProcess } from '../../testing/cell-agent';
import { cellJobs } from '../../testing/cell-jobs';
import { pushThroughHook } from '../../testing/push';
import { MINIMAL_SOURCE, tarOf } from '../../testing/source-tar';
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
  let cell: CellAgentProcess;
  let actor: Awaited<ReturnType<typeof adminActor>>;

  before(async () => {
    h = await startControllerHarness({ PAAS_LEASE_TTL_MS: String(LEASE_TTL_MS), PAAS_LEASE_SWEEP_INTERVAL_MS: '200' });
    cell = await startCellAgent(h, 'fake-orphan', { operatorBuildpacks: ['slow'] });
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
  async function pushAndKill(
    ready: () => Promise<string | undefined>,
    source?: Uint8Array,
  ): Promise<{ buildId: string; push: { ok: boolean; text: string } | Error }> {
    const a = await h.processReplica();
    let ended: { ok: boolean; text: string } | Error | undefined;
    const push = pushThroughHook(a.url, h.internalToken, APP, actor, source).then(
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
    // The slow buildpack takes seconds: once the agent took the stage job it is paused (SIGSTOP), so it never answers.
    const slow = await tarOf({ ...MINIMAL_SOURCE, 'manifest.yml': `applications:\n- name: ${APP}\n  buildpacks: [slow]\n` });
    try {
      const { buildId, push } = await pushAndKill(async () => {
        const [taken] = await cellJobs(h, cell.id, CellJobName.Stage, ['active']);
        if (!taken) return undefined;
        cell.pauseHeartbeat();
        return taken.data.buildId as string;
      }, slow);
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
      await cell.resume();
    }
    const next = await pushThroughHook(h.url, h.internalToken, APP, actor);
    assert.ok(next.ok, next.text);
    assert.equal(await currentRelease(), (release ?? 0) + 1);
  });

  test('before the cell took the stage job: the job is withdrawn from the cell queue and never staged', async () => {
    const release = await currentRelease();
    // A paused agent (SIGSTOP) takes no job: the stage job waits in its queue.
    cell.pauseHeartbeat();
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

      await cell.resume();
      const next = await pushThroughHook(h.url, h.internalToken, APP, actor);
      assert.ok(next.ok, next.text);
      // A staging of it would have put the fake buildpack's line in its log.
      const deadLog = (await h.call('GET', `/v1/apps/${APP}/builds/${buildId}/log?format=json`)).body.lines as Array<{ text: string }>;
      assert.ok(!deadLog.some((l) => l.text.includes('fake buildpack')), 'the dead push was staged after all');
      assert.ok(!(await cellJobs(h, cell.id, CellJobName.Stage)).some((j) => j.data.buildId === buildId), 'the cell took the dead push after all');
      assert.equal(await currentRelease(), (release ?? 0) + 1);
    } finally {
      await cell.resume();
      await queue.close();
      connection.disconnect();
    }
  });

  /** The instances the agent has (its records in Redis) that were started with a `hang` command (their start jobs). */
  const hungInstances = async () => {
    const appId = (await h.call('GET', `/v1/apps/${APP}`)).body.id as string;
    const keys = redisKeys(h.redisPrefix);
    const redis = createRedisConnection(h.redisUrl, 'orphan-test-records');
    try {
      const records = new Set((await listAppInstances(redis, keys, appId)).map((i) => i.instanceId));
      return (await cellJobs(h, cell.id, CellJobName.StartInstance))
        .map((j) => j.data as { instanceId: string; startCommand: string })
        .filter((j) => records.has(j.instanceId) && j.startCommand.includes('hang'));
    } finally {
      redis.disconnect();
    }
  };

  test('mid-deploy (new instances never healthy): the deployment ends FAILED with the reason, the old release keeps its instances, and the next push works', async () => {
    const release = await currentRelease();
    assert.equal((await h.call('PATCH', `/v1/apps/${APP}/processes/web`, { command: 'hang on start' })).status, 200);
    try {
      const deployments = async () =>
        (await h.call('GET', `/v1/apps/${APP}/deployments?per_page=100`)).body.resources as Array<{ id: string; state: string; reason: string | null }>;
      const known = new Set((await deployments()).map((d) => d.id));
      const { buildId } = await pushAndKill(async () => {
        const running = (await deployments()).find((d) => !known.has(d.id) && d.state === 'DEPLOYING');
        const hung = (await hungInstances()).length > 0;
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
      await until('only instances of the current release', async () => ((await hungInstances()).length === 0 ? true : undefined));
    } finally {
      assert.equal((await h.call('PATCH', `/v1/apps/${APP}/processes/web`, { command: null })).status, 200);
    }
    const next = await pushThroughHook(h.url, h.internalToken, APP, actor);
    assert.ok(next.ok, next.text);
  });
});
