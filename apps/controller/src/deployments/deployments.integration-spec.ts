/**
 * The deploy side of issue 6 against a real Postgres and Redis, with two real cell agents on the
 * fake runtime (testing/cell-agent.ts; release commands from a Procfile, `echo`, `sleep`, `exit N`,
 * `nobind` and `crash-from-index-N` as apps/cell/src/fake-behaviours.ts says): the release phase,
 * failure reports with log lines, cancel (also through another controller replica), pruning of old
 * droplets, and the cells told to forget a deleted app. What the agents' runtimes did, in order
 * across both, comes from their shared journal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CellJobName, runTaskJobSchema } from '@paas/contracts';
import { adminActor, startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { readFakeJournal, startCellAgent, type CellAgentProcess } from '../testing/cell-agent';
import { cellJobs } from '../testing/cell-jobs';
import { pushThroughHook } from '../testing/push';
import { MINIMAL_SOURCE, tarOf } from '../testing/source-tar';
import { BlobstoreService } from '../storage/blobstore.service';
import { pollUntil as until } from '@paas/local-services';

const KEPT = 3;

const exists = (path: string) => stat(path).then(() => true, () => false);

interface InstanceRow {
  instance_id: string;
  state: string;
  release_id: string;
  index: number;
}

describe('deployments: release phase, failure reports, cancel, pruning', () => {
  let h: ControllerHarness;
  let blobs: BlobstoreService;
  const cells: CellAgentProcess[] = [];
  let admin: { userId: string; name: string; isAdmin: boolean };
  let journalDir: string;
  /** The release command the next pushes' Procfile names; none: the minimal source. */
  let releaseCommand: string | undefined;

  const instances = async (app: string) => (await h.call('GET', `/v1/apps/${app}/instances`)).body.resources as InstanceRow[];
  const running = async (app: string) => (await instances(app)).filter((i) => i.state === 'RUNNING');
  const lastDeployment = async (app: string) => (await h.call('GET', `/v1/apps/${app}/deployments?per_page=1`)).body.resources[0];
  const settled = (app: string) =>
    until(`the deployment of ${app} to end`, async () => {
      const d = await lastDeployment(app);
      return d && d.state !== 'DEPLOYING' ? d : undefined;
    });
  const release = async (app: string, version: number) => (await h.call('GET', `/v1/apps/${app}/releases/v${version}`)).body;
  const appOf = async (app: string) => (await h.call('GET', `/v1/apps/${app}`)).body;
  /** What both agents' runtimes did for app `appId`, in order: task runs (`run`, `run-end`, `stop`) and instance starts. */
  const journal = async (appId: string) => (await readFakeJournal(join(journalDir, 'journal'))).filter((e) => e.appId === appId);
  /** Every job of `name` both cells took, oldest first per cell. */
  const jobsOf = async (name: string) => (await Promise.all(cells.map((c) => cellJobs(h, c.id, name)))).flat();
  const taskJobs = async (appId: string) => (await jobsOf(CellJobName.RunTask)).filter((j) => j.data.appId === appId).map((j) => runTaskJobSchema.parse(j.data));
  const setReleaseCommand = (command: string | undefined) => (releaseCommand = command);
  const push = async (app: string) =>
    pushThroughHook(h.url, h.internalToken, app, admin, releaseCommand === undefined ? undefined : await tarOf({ ...MINIMAL_SOURCE, Procfile: `web: node server.js\nrelease: ${releaseCommand}\n` }));
  const createAndPush = async (app: string) => {
    assert.equal((await h.call('POST', '/v1/apps', { name: app })).status, 201);
    const first = await push(app);
    assert.ok(first.ok, first.text);
  };

  before(async () => {
    h = await startControllerHarness({ PAAS_RELEASES_KEPT: String(KEPT) });
    blobs = h.app.get(BlobstoreService);
    admin = await adminActor(h);
    journalDir = await mkdtemp(join(tmpdir(), 'paas-dep-journal-'));
    for (const id of ['dep-a', 'dep-b']) cells.push(await startCellAgent(h, id, { journal: join(journalDir, 'journal') }));
  });

  after(async () => {
    for (const cell of cells) await cell.stop();
    await h?.stop();
    if (journalDir) await rm(journalDir, { recursive: true, force: true });
  });

  test('release command: runs once, before any new instance starts, its output in the push; a restart does not run it again', async () => {
    setReleaseCommand('echo migrating users; echo 3 migrations applied; exit 0');
    try {
      assert.equal((await h.call('POST', '/v1/apps', { name: 'rel-ok' })).status, 201);
      const pushed = await push('rel-ok');
      assert.ok(pushed.ok, pushed.text);
      assert.match(pushed.text, /-----> Running release command: echo migrating users; echo 3 migrations applied; exit 0\n/);
      assert.match(pushed.text, /\n {7}migrating users\n {7}3 migrations applied\n/);
      assert.match(pushed.text, /Release command succeeded/);
      const app = await appOf('rel-ok');
      const v1 = await release('rel-ok', 1);
      assert.equal(v1.process_types.release, 'echo migrating users; echo 3 migrations applied; exit 0');
      // Ordering: the task ended before the first instance of the release started.
      const mine = await journal(app.id);
      const taskEnd = mine.findIndex((e) => e.what === 'run-end' && e.processType === 'release');
      const firstStart = mine.findIndex((e) => e.what === 'start');
      assert.ok(taskEnd >= 0 && firstStart >= 0, JSON.stringify(mine));
      assert.ok(taskEnd < firstStart, `the release command ended before any instance started: ${JSON.stringify(mine)}`);
      assert.equal(mine.filter((e) => e.what === 'run').length, 1);
      // The task: the web process's memory, the release's droplet and env, process type "release".
      const tasks = await taskJobs(app.id);
      assert.equal(tasks.length, 1);
      const task = tasks[0]!;
      assert.equal(task.processType, 'release');
      assert.equal(task.memoryMb, 256);
      assert.equal(task.releaseId, v1.id);
      assert.equal(task.taskId, (await lastDeployment('rel-ok')).id, 'one task per deployment, named after it');
      assert.match(task.dropletUrl, new RegExp(`/droplets/${v1.build_id}$`));
      assert.equal(task.timeoutS, 600);
      // No "release" instances: the release phase is not a process that runs.
      assert.deepEqual([...new Set((await instances('rel-ok')).map((i) => i.release_id))], [v1.id]);
      assert.ok(!(await h.call('GET', '/v1/apps/rel-ok/processes')).body.resources.some((p: { type: string }) => p.type === 'release'));

      assert.equal((await h.call('POST', '/v1/apps/rel-ok/actions/restart')).status, 202);
      assert.equal((await settled('rel-ok')).state, 'DEPLOYED');
      assert.equal((await journal(app.id)).filter((e) => e.what === 'run').length, 1, 'a restart of the current release does not run it');

      const env = await h.call('PATCH', '/v1/apps/rel-ok/env', { var: { FEATURE: 'on' } });
      assert.equal(env.status, 202);
      assert.equal((await settled('rel-ok')).state, 'DEPLOYED');
      assert.equal((await journal(app.id)).filter((e) => e.what === 'run').length, 2, 'a new release (env change) runs it');
      const v2 = await release('rel-ok', 2);
      const second = (await taskJobs(app.id)).find((t) => t.releaseId === v2.id)!;
      assert.equal(second.env.FEATURE, 'on');
      assert.equal(second.cpuMillicores, undefined, 'web has no cpu quota: neither has the task');
      // A cpu quota on web makes a release whose release command runs under the same quota.
      assert.equal((await h.call('POST', '/v1/apps/rel-ok/processes/web/actions/scale', { cpu_millicores: 250 })).status, 202);
      assert.equal((await settled('rel-ok')).state, 'DEPLOYED');
      const v3 = await release('rel-ok', 3);
      const third = (await taskJobs(app.id)).find((t) => t.releaseId === v3.id);
      assert.equal(third?.cpuMillicores, 250);
    } finally {
      setReleaseCommand(undefined);
    }
  });

  test('release command failure: the deploy fails with its exit code and last lines, no new instance starts, the previous release keeps serving', async () => {
    await createAndPush('rel-bad');
    const before = await running('rel-bad');
    const v1 = await release('rel-bad', 1);
    setReleaseCommand('echo applying 0042_add_users; echo ERROR: relation "users" already exists; exit 3');
    try {
      const pushed = await push('rel-bad');
      assert.equal(pushed.ok, false, pushed.text);
      assert.match(pushed.text, /release command failed \(exit 3\): applying 0042_add_users \| ERROR: relation "users" already exists/);
      assert.match(pushed.text, /push rejected/);
    } finally {
      setReleaseCommand(undefined);
    }
    const failed = await lastDeployment('rel-bad');
    assert.equal(failed.state, 'FAILED');
    assert.match(failed.reason, /^release command failed \(exit 3\): .*already exists/);
    const v2 = await release('rel-bad', 2);
    assert.equal(failed.release_id, v2.id);
    const app = await appOf('rel-bad');
    assert.equal(app.current_release_id, v1.id, 'the previous release stays current');
    assert.equal((await jobsOf(CellJobName.StartInstance)).filter((j) => j.data.releaseId === v2.id).length, 0, 'no instance of the failed release started');
    const after = await running('rel-bad');
    assert.deepEqual(after.map((i) => i.instance_id), before.map((i) => i.instance_id), 'the old instance keeps serving');
  });

  test('an instance that never becomes healthy fails the deploy with its last log lines; the old instance stays', async () => {
    await createAndPush('nobind');
    const before = await running('nobind');
    const v1 = await release('nobind', 1);
    // It prints two lines and never binds its port; its health check gives up after 1s.
    const patched = await h.call('PATCH', '/v1/apps/nobind/processes/web', {
      command: 'echo server starting; echo listening on port 3000; nobind',
      health_check: { type: 'port', timeout: 1 },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const pushed = await push('nobind');
    assert.equal(pushed.ok, false);
    const expected = /new web instance 0 did not become healthy: the app did not listen on \$PORT \(8080\) within 1s; its last log lines: server starting \| listening on port 3000/;
    assert.match(pushed.text, expected);
    const failed = await lastDeployment('nobind');
    assert.equal(failed.state, 'FAILED');
    assert.match(failed.reason, expected);
    await until('the failed instance to be removed', async () => (await instances('nobind')).every((i) => i.release_id === v1.id));
    assert.deepEqual((await running('nobind')).map((i) => i.instance_id), before.map((i) => i.instance_id));
    assert.equal((await appOf('nobind')).current_release_id, v1.id);
  });

  test('a failure in a later batch removes the new instances and starts again the old ones it had replaced', async () => {
    await createAndPush('batches');
    const v1 = await release('batches', 1);
    assert.equal((await h.call('POST', '/v1/apps/batches/processes/web/actions/scale', { instances: 3 })).status, 202);
    await until('3 running', async () => (await running('batches')).length === 3);
    // From now on indexes 0 and 1 (the first batch) start, index 2 crashes.
    assert.equal((await h.call('PATCH', '/v1/apps/batches/processes/web', { command: 'node server.js crash-from-index-2' })).status, 200);
    const change = await h.call('PATCH', '/v1/apps/batches/env', { var: { V: '2' } });
    assert.equal(change.status, 202);
    const failed = await settled('batches');
    assert.equal(failed.state, 'FAILED');
    // In the agent's own words (apps/cell exit-reason.ts).
    assert.match(failed.reason, /new web instance 2 crashed on start: exited with status 1/);
    const v2 = await release('batches', 2);
    // Restored by the deployment itself before it ended (the convergence loop skips an app while
    // it deploys), from the release that stays current.
    const atEnd = (await instances('batches')).filter((i) => i.release_id === v1.id && i.state !== 'CRASHED');
    assert.deepEqual(atEnd.map((i) => i.index).sort(), [0, 1, 2], JSON.stringify(atEnd));
    const back = await until('3 running instances of v1 and none of v2', async () => {
      const all = await instances('batches');
      return all.length === 3 && all.every((i) => i.release_id === v1.id && i.state === 'RUNNING') ? all : undefined;
    });
    assert.deepEqual(back.map((i) => i.index).sort(), [0, 1, 2]);
    assert.ok(!back.some((i) => i.release_id === v2.id));
    assert.equal((await appOf('batches')).current_release_id, v1.id);
    await h.call('PATCH', '/v1/apps/batches/processes/web', { command: null });
  });

  test('cancel a deploy stuck waiting for health, through another replica: CANCELED, new instances removed, the push is told', async () => {
    await createAndPush('stuck');
    const before = await running('stuck');
    const v1 = await release('stuck', 1);
    assert.equal((await h.call('PATCH', '/v1/apps/stuck/processes/web', { command: 'hang', health_check: { type: 'port', timeout: 600 } })).status, 200);
    const pushing = push('stuck');
    const deployment = await until('the new deployment', async () => {
      const d = await lastDeployment('stuck');
      return d && d.state === 'DEPLOYING' && d.release_id !== v1.id ? d : undefined;
    });
    await until('the new instance to hang in STARTING', async () => (await instances('stuck')).some((i) => i.state === 'STARTING'));
    const replica = await h.replica();
    try {
      const canceled = await replica.call('POST', `/v1/apps/stuck/deployments/${deployment.id}/cancel`);
      assert.equal(canceled.status, 202, JSON.stringify(canceled.body));
      assert.equal(canceled.body.id, deployment.id);
      assert.equal(canceled.body.state, 'CANCELED');
      assert.match(canceled.body.reason, /canceled by admin/);
    } finally {
      await replica.close();
    }
    const pushed = await pushing;
    assert.equal(pushed.ok, false);
    assert.match(pushed.text, /was canceled by admin: the new instances were removed and the previous release keeps serving/);
    await until('the hanging instance to be removed', async () => (await instances('stuck')).every((i) => i.release_id === v1.id));
    assert.deepEqual((await running('stuck')).map((i) => i.instance_id), before.map((i) => i.instance_id));
    assert.equal((await appOf('stuck')).current_release_id, v1.id);
    const events = (await h.call('GET', `/v1/events?target_id=${(await appOf('stuck')).id}&types=deploy-cancel-requested,deploy-canceled`)).body.resources;
    assert.deepEqual(events.map((e: { type: string }) => e.type).sort(), ['deploy-cancel-requested', 'deploy-canceled']);
    assert.ok(events.every((e: { data: { deployment_id: string } }) => e.data.deployment_id === deployment.id));
    // A new deploy can start at once: the lock is free.
    await h.call('PATCH', '/v1/apps/stuck/processes/web', { command: null, health_check: { type: 'port', timeout: 60 } });
    assert.equal((await h.call('POST', '/v1/apps/stuck/actions/restart')).status, 202);
    assert.equal((await settled('stuck')).state, 'DEPLOYED');
  });

  test('cancel while the release command runs: the task is stopped, no instance starts', async () => {
    await createAndPush('slow-release');
    const v1 = await release('slow-release', 1);
    setReleaseCommand('echo long migration; sleep');
    try {
      const pushing = push('slow-release');
      const app = await appOf('slow-release');
      await until('the release command to run', async () => (await journal(app.id)).some((e) => e.what === 'run'));
      const deployment = await lastDeployment('slow-release');
      const canceled = await h.call('POST', `/v1/apps/slow-release/deployments/${deployment.id}/cancel`);
      assert.equal(canceled.status, 202);
      assert.equal(canceled.body.state, 'CANCELED');
      const pushed = await pushing;
      assert.equal(pushed.ok, false);
      assert.match(pushed.text, /long migration/);
      assert.match(pushed.text, /canceled by admin/);
      const stops = (await jobsOf(CellJobName.StopTask)).filter((j) => j.data.taskId === deployment.id);
      assert.equal(stops.length, 1, 'the cell was told to stop the task');
      assert.deepEqual(stops[0]!.result, { ok: true, stopped: true });
      const mine = await journal(app.id);
      const task = mine.filter((e) => e.processType === 'release').map((e) => e.what);
      assert.deepEqual(task.slice(-3), ['run', 'stop', 'run-end'], `the task's container was stopped: ${JSON.stringify(mine)}`);
      const taskJob = (await jobsOf(CellJobName.RunTask)).find((j) => j.data.taskId === deployment.id);
      assert.equal((taskJob?.result as { reason?: string } | undefined)?.reason, 'canceled', JSON.stringify(taskJob?.result));
      assert.equal((await jobsOf(CellJobName.StartInstance)).filter((j) => j.data.releaseId === deployment.release_id).length, 0);
      assert.equal((await appOf('slow-release')).current_release_id, v1.id);
    } finally {
      setReleaseCommand(undefined);
    }
  });

  test('cancel: 404 for unknown deployments with the fix, 409 once it ended', async () => {
    await createAndPush('cancel-codes');
    const unknown = await h.call('POST', `/v1/apps/cancel-codes/deployments/${randomUUID()}/cancel`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not-found');
    assert.match(unknown.body.error.message, /GET \/v1\/apps\/cancel-codes\/deployments/);
    assert.equal((await h.call('POST', '/v1/apps/cancel-codes/deployments/not-an-id/cancel')).status, 404);
    const done = await settled('cancel-codes');
    assert.equal(done.state, 'DEPLOYED');
    const ended = await h.call('POST', `/v1/apps/cancel-codes/deployments/${done.id}/cancel`);
    assert.equal(ended.status, 409);
    assert.equal(ended.body.error.code, 'deployment-not-running');
    assert.match(ended.body.error.message, /ended DEPLOYED.*roll back with POST \/v1\/apps\/cancel-codes\/actions\/rollback/);
    // Another app's deployment is not found through this app.
    const other = await lastDeployment('stuck');
    assert.equal((await h.call('POST', `/v1/apps/cancel-codes/deployments/${other.id}/cancel`)).status, 404);
  });

  test(`pruning keeps the droplets of the newest ${KEPT} releases; rollback to a pruned one is refused, to a kept one works`, async () => {
    await createAndPush('prune');
    for (let i = 2; i <= 5; i++) {
      const pushed = await push('prune');
      assert.ok(pushed.ok, pushed.text);
    }
    const releases = (await h.call('GET', '/v1/apps/prune/releases')).body.resources as Array<{ version: number; build_id: string; droplet_id: string; droplet_pruned: boolean }>;
    assert.deepEqual(releases.map((r) => r.version), [5, 4, 3, 2, 1]);
    const byVersion = new Map(releases.map((r) => [r.version, r]));
    for (const v of [1, 2]) {
      const r = byVersion.get(v)!;
      assert.equal(r.droplet_pruned, true, `v${v} pruned`);
      assert.equal(await exists(blobs.path('droplets', r.build_id)), false, `droplet of v${v} deleted`);
      assert.equal(await exists(blobs.path('packages', r.build_id)), false, `source package of v${v} deleted`);
    }
    for (const v of [3, 4, 5]) {
      const r = byVersion.get(v)!;
      assert.equal(r.droplet_pruned, false, `v${v} kept`);
      assert.equal(await exists(blobs.path('droplets', r.build_id)), true, `droplet of v${v} kept`);
      assert.equal(await exists(blobs.path('packages', r.build_id)), true, `source package of v${v} kept`);
    }
    const deploymentsBefore = (await h.call('GET', '/v1/apps/prune/deployments')).body.pagination.total_results;
    const refused = await h.call('POST', '/v1/apps/prune/actions/rollback', { version: 1 });
    assert.equal(refused.status, 410, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'release-pruned');
    assert.match(refused.body.error.message, /v1 of prune .*droplet was pruned .*newest 3 releases .*PAAS_RELEASES_KEPT.*roll back to one of v5, v4, v3, or push its commit again/);
    assert.equal((await h.call('GET', '/v1/apps/prune/releases')).body.pagination.total_results, 5, 'no release made');
    assert.equal((await h.call('GET', '/v1/apps/prune/deployments')).body.pagination.total_results, deploymentsBefore, 'no deployment started');

    const rolled = await h.call('POST', '/v1/apps/prune/actions/rollback', { version: 3 });
    assert.equal(rolled.status, 202, JSON.stringify(rolled.body));
    assert.equal((await settled('prune')).state, 'DEPLOYED');
    const v6 = await release('prune', 6);
    assert.equal(v6.droplet_id, byVersion.get(3)!.droplet_id);
    assert.equal((await appOf('prune')).current_release_id, v6.id);
    assert.ok((await running('prune')).every((i) => i.release_id === v6.id));
    // v6, v5, v4 are the newest: v3's droplet lives on through v6.
    assert.equal(await exists(blobs.path('droplets', byVersion.get(3)!.build_id)), true);
    assert.equal((await release('prune', 3)).droplet_pruned, false);
  });

  test('deleting an app tells every cell to drop its build cache', async () => {
    await createAndPush('gone');
    const id = (await appOf('gone')).id;
    assert.equal((await h.call('DELETE', '/v1/apps/gone')).status, 204);
    await until('both cells to forget the app', async () =>
      (await Promise.all(cells.map((c) => cellJobs(h, c.id, CellJobName.ForgetApp, ['completed'])))).every((jobs) => jobs.some((j) => j.data.appId === id)),
    );
  });
});
