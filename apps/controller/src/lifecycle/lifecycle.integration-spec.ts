/**
 * Releases, deployments, env, scale, restart and rollback against a real Postgres and Redis, with
 * real cell agents on the fake runtime (testing/cell-agent.ts; `crash` start commands as apps/cell/src/fake-behaviours.ts says).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { adminActor, startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { startCellAgent, type CellAgentProcess } from '../testing/cell-agent';
import { cellJobs } from '../testing/cell-jobs';
import { pushThroughHook } from '../testing/push';
import { RedisService } from '../platform/redis/redis.module';
import { listAppInstances } from '@paas/redis';
import { PrismaService } from '../platform/database/prisma.service';
import { appViewSchema, CellJobName, instanceListSchema, paginatedSchema, processListSchema } from '@paas/contracts';
import { pollUntil as until } from '@paas/local-services';

describe('app lifecycle: releases, deployments, env, scale, rollback', () => {
  let h: ControllerHarness;
  let prisma: PrismaService;
  const cells: CellAgentProcess[] = [];
  let admin: { userId: string; name: string; isAdmin: boolean };

  /** A user with a role in a space, and its token (made directly in the database). */
  async function userWithRole(name: string, spaceId: string, role: 'ADMIN' | 'DEVELOPER' | 'VIEWER'): Promise<string> {
    const token = `paas_${randomBytes(16).toString('hex')}`;
    const user = await prisma.user.create({ data: { name } });
    await prisma.apiToken.create({ data: { userId: user.id, name, tokenHash: createHash('sha256').update(token).digest('hex') } });
    await prisma.spaceRole.create({ data: { userId: user.id, spaceId, role } });
    return token;
  }

  const running = async (app: string) =>
    ((await h.call('GET', `/v1/apps/${app}/instances`)).body.resources as Array<{ state: string; cell_id: string; release_id: string; index: number }>).filter(
      (i) => i.state === 'RUNNING',
    );
  const lastDeployment = async (app: string) => (await h.call('GET', `/v1/apps/${app}/deployments?per_page=1`)).body.resources[0];
  const settled = (app: string) =>
    until(`the deployment of ${app} to end`, async () => {
      const d = await lastDeployment(app);
      return d && d.state !== 'DEPLOYING' ? d : undefined;
    });

  before(async () => {
    h = await startControllerHarness();
    prisma = h.app.get(PrismaService);
    admin = await adminActor(h);
    for (const id of ['fake-a', 'fake-b']) cells.push(await startCellAgent(h, id));
  });

  after(async () => {
    for (const cell of cells) await cell.stop();
    await h?.stop();
  });

  test('a push makes release v1 and a finished deployment with one running instance', async () => {
    assert.equal((await h.call('POST', '/v1/apps', { name: 'web1' })).status, 201);
    const push = await pushThroughHook(h.url, h.internalToken, 'web1', admin);
    assert.ok(push.ok, push.text);
    assert.match(push.text, /Release v1/);
    const releases = await h.call('GET', '/v1/apps/web1/releases');
    assert.equal(releases.body.resources.length, 1);
    assert.equal(releases.body.resources[0].version, 1);
    assert.equal(releases.body.resources[0].current, true);
    assert.deepEqual(releases.body.resources[0].process_types, { web: 'node server.js' });
    assert.equal((await lastDeployment('web1')).state, 'DEPLOYED');
    assert.equal((await running('web1')).length, 1);
    const builds = await h.call('GET', '/v1/apps/web1/builds');
    assert.equal(builds.body.resources[0].state, 'STAGED');
    // What clients read is exactly the shared contract.
    assert.ok(appViewSchema.safeParse((await h.call('GET', '/v1/apps/web1')).body).success);
    assert.ok(paginatedSchema(appViewSchema).safeParse((await h.call('GET', '/v1/apps')).body).success);
    const listed = instanceListSchema.safeParse((await h.call('GET', '/v1/apps/web1/instances')).body);
    assert.ok(listed.success, JSON.stringify(listed.error?.issues));
  });

  test('scaling instances up spreads them over cells; scaling down stops the extra ones', async () => {
    const up = await h.call('POST', '/v1/apps/web1/processes/web/actions/scale', { instances: 4 });
    assert.equal(up.status, 202, JSON.stringify(up.body));
    assert.equal(up.body.instances, 4);
    assert.equal(up.body.release_version, null, 'an instance count alone makes no release');
    const four = await until('4 running', async () => ((await running('web1')).length === 4 ? running('web1') : undefined));
    assert.deepEqual([...new Set(four.map((i) => i.index))].sort(), [0, 1, 2, 3]);
    assert.equal(new Set(four.map((i) => i.cell_id)).size, 2, 'instances spread over both cells');
    const down = await h.call('POST', '/v1/apps/web1/processes/web/actions/scale', { instances: 1 });
    assert.equal(down.status, 202);
    await until('1 running', async () => (await running('web1')).length === 1);
    assert.equal((await running('web1'))[0].index, 0);
  });

  test('concurrent scales never place two instances for one index', async () => {
    const results = await Promise.all([3, 3, 3, 3, 3].map((n) => h.call('POST', '/v1/apps/web1/processes/web/actions/scale', { instances: n })));
    assert.ok(results.every((r) => r.status === 202), JSON.stringify(results.map((r) => r.body)));
    await until('3 running', async () => (await running('web1')).length === 3);
    await new Promise((r) => setTimeout(r, 300));
    const all = ((await h.call('GET', '/v1/apps/web1/instances')).body.resources as Array<{ index: number }>).map((i) => i.index).sort();
    assert.deepEqual(all, [0, 1, 2]);
    await h.call('POST', '/v1/apps/web1/processes/web/actions/scale', { instances: 1 });
    await until('1 running', async () => (await running('web1')).length === 1);
  });

  test('an env change makes a release and rolls it out to new instances', async () => {
    const before = (await running('web1'))[0];
    const change = await h.call('PATCH', '/v1/apps/web1/env', { var: { GREETING: 'hi', REMOVE_ME: 'x' } });
    assert.equal(change.status, 202, JSON.stringify(change.body));
    assert.equal(change.body.release_version, 2);
    assert.ok(change.body.deployment_id);
    assert.equal((await settled('web1')).state, 'DEPLOYED');
    const after = await running('web1');
    assert.equal(after.length, 1);
    assert.notEqual(after[0].release_id, before.release_id, 'the instance runs the new release');
    const removed = await h.call('PATCH', '/v1/apps/web1/env', { var: { REMOVE_ME: null } });
    assert.deepEqual(removed.body.var, { GREETING: 'hi' });
    await settled('web1');
    assert.deepEqual((await h.call('GET', '/v1/apps/web1/env')).body.var, { GREETING: 'hi' });
    const v3 = await h.call('GET', '/v1/apps/web1/releases/v3');
    assert.deepEqual(v3.body.env_names, ['GREETING']);
    assert.equal(v3.body.description, 'env changed');
  });

  test('concurrent env changes: no lost update, no duplicate release, the refused ones change nothing', async () => {
    const releasesBefore = (await h.call('GET', '/v1/apps/web1/releases')).body.pagination.total_results;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => h.call('PATCH', '/v1/apps/web1/env', { var: { [`VAR_${i}`]: String(i) } })),
    );
    assert.ok(results.every((r) => r.status === 202 || r.status === 409), JSON.stringify(results.map((r) => r.status)));
    const accepted = results.map((r, i) => ({ r, i })).filter(({ r }) => r.status === 202);
    assert.ok(accepted.length >= 1);
    for (const { r } of results.map((r, i) => ({ r, i })).filter(({ r }) => r.status === 409)) {
      assert.equal(r.body.error.code, 'deployment-in-progress');
    }
    await settled('web1');
    const env = (await h.call('GET', '/v1/apps/web1/env')).body.var as Record<string, string>;
    results.forEach((r, i) => assert.equal(env[`VAR_${i}`] !== undefined, r.status === 202, `VAR_${i} applied iff accepted`));
    const releases = (await h.call('GET', '/v1/apps/web1/releases?per_page=200')).body;
    assert.equal(releases.pagination.total_results, releasesBefore + accepted.length, 'one release per accepted change');
    const versions = (releases.resources as Array<{ version: number }>).map((r) => r.version);
    assert.equal(new Set(versions).size, versions.length, 'no duplicate release number');
  });

  test('a second deployment while one runs is refused with 409', async () => {
    const first = await h.call('POST', '/v1/apps/web1/actions/restart');
    const second = await h.call('POST', '/v1/apps/web1/actions/restart');
    assert.equal(first.status, 202);
    assert.equal(second.status, 409);
    assert.equal(second.body.error.code, 'deployment-in-progress');
    assert.match(second.body.error.message, /already running/);
    assert.equal((await settled('web1')).state, 'DEPLOYED');
  });

  test('a release that crashes on start fails its deployment and leaves the old instances serving', async () => {
    const before = await running('web1');
    const cmd = await h.call('PATCH', '/v1/apps/web1/processes/web', { command: 'crash on purpose' });
    assert.equal(cmd.status, 200);
    await h.call('POST', '/v1/apps/web1/actions/restart');
    const failed = await settled('web1');
    assert.equal(failed.state, 'FAILED');
    assert.match(failed.reason, /crashed on start/);
    const after = await running('web1');
    assert.deepEqual(after.map((i) => i.release_id), before.map((i) => i.release_id));
    await h.call('PATCH', '/v1/apps/web1/processes/web', { command: null });
  });

  test('rollback makes a new release with the old droplet and env', async () => {
    const rb = await h.call('POST', '/v1/apps/web1/actions/rollback', { version: 1 });
    assert.equal(rb.status, 202, JSON.stringify(rb.body));
    await settled('web1');
    const latest = (await h.call('GET', '/v1/apps/web1/releases?per_page=1')).body.resources[0];
    assert.equal(latest.version, rb.body.release_version);
    assert.equal(latest.description, 'rollback to v1');
    assert.deepEqual(latest.env_names, []);
    assert.equal(latest.current, true);
    assert.deepEqual((await h.call('GET', '/v1/apps/web1/env')).body.var, {});
    const missing = await h.call('POST', '/v1/apps/web1/actions/rollback', { version: 999 });
    assert.equal(missing.status, 404);
    assert.match(missing.body.error.message, /v999/);
  });

  test('stop stops every instance; start brings them back', async () => {
    assert.equal((await h.call('POST', '/v1/apps/web1/actions/stop')).status, 202);
    await until('none running', async () => (await h.call('GET', '/v1/apps/web1/instances')).body.resources.length === 0);
    assert.equal((await h.call('GET', '/v1/apps/web1')).body.state, 'STOPPED');
    assert.equal((await h.call('POST', '/v1/apps/web1/actions/start')).status, 202);
    await until('1 running', async () => (await running('web1')).length === 1);
  });

  test('bad input is refused with the field and rule named', async () => {
    const neg = await h.call('POST', '/v1/apps/web1/processes/web/actions/scale', { instances: -1 });
    assert.equal(neg.status, 400);
    assert.match(neg.body.error.message, /instances/);
    const empty = await h.call('POST', '/v1/apps/web1/processes/web/actions/scale', {});
    assert.equal(empty.status, 400);
    const port = await h.call('PATCH', '/v1/apps/web1/env', { var: { PORT: '1' } });
    assert.equal(port.status, 400);
    assert.match(port.body.error.message, /set by the platform/);
    const noType = await h.call('POST', '/v1/apps/web1/processes/nope/actions/scale', { instances: 1 });
    assert.equal(noType.status, 404);
    const page = await h.call('GET', '/v1/apps/web1/releases?per_page=0');
    assert.equal(page.status, 400);
    assert.match(page.body.error.message, /per_page/);
  });

  test('a cpu quota rolls out a release whose instances run with it; the same value changes nothing; null removes it', async () => {
    // The start jobs of the instances web1 has on its cells now (the agents' records in Redis).
    const redis = h.app.get(RedisService);
    const appId = (await h.call('GET', '/v1/apps/web1')).body.id as string;
    let current: Array<{ releaseId: string; cpuMillicores?: number }> = [];
    const jobs = () => current;
    const refresh = async () => {
      const live = new Set((await listAppInstances(redis.redis, redis.keys, appId)).filter((i) => i.state === 'STARTING' || i.state === 'RUNNING').map((i) => i.instanceId));
      const starts = (await Promise.all(cells.map((c) => cellJobs(h, c.id, CellJobName.StartInstance)))).flat();
      current = starts.map((j) => j.data as { instanceId: string; releaseId: string; cpuMillicores?: number }).filter((j) => live.has(j.instanceId));
    };
    const set = await h.call('POST', '/v1/apps/web1/processes/web/actions/scale', { cpu_millicores: 500 });
    assert.equal(set.status, 202, JSON.stringify(set.body));
    assert.equal(set.body.cpu_millicores, 500);
    assert.ok(set.body.release_version && set.body.deployment_id, 'a new limit makes a release, as memory does');
    assert.equal((await settled('web1')).state, 'DEPLOYED');
    const release = (await h.call('GET', `/v1/apps/web1/releases/v${set.body.release_version}`)).body;
    assert.match(release.description, /0\.5 cpu/);
    await until('only instances of the new release', async () => {
      await refresh();
      return jobs().length === 1 && jobs()[0].releaseId === release.id;
    });
    assert.equal(jobs()[0].cpuMillicores, 500, 'the start job carries the quota to the cell');
    const listed = processListSchema.parse((await h.call('GET', '/v1/apps/web1/processes')).body);
    assert.equal(listed.resources.find((p) => p.type === 'web')?.cpu_millicores, 500);

    const same = await h.call('POST', '/v1/apps/web1/processes/web/actions/scale', { cpu_millicores: 500 });
    assert.equal(same.status, 202);
    assert.equal(same.body.release_version, null, 'the same quota is no change');

    for (const [value, rule] of [
      [0.5, /cpu_millicores is a whole number of millicores from 10 to 64000 \(500 = half a core\), or null/],
      [5, /from 10 to 64000/],
      [1_000_000, /from 10 to 64000/],
      ['500m', /cpu_millicores is a whole number/],
      [true, /cpu_millicores is a whole number/],
    ] as const) {
      const bad = await h.call('POST', '/v1/apps/web1/processes/web/actions/scale', { cpu_millicores: value });
      assert.equal(bad.status, 400, JSON.stringify(value));
      assert.match(bad.body.error.message, rule);
    }
    assert.equal((await h.call('GET', '/v1/apps/web1/processes/web')).body.cpu_millicores, 500, 'a refused scale changed nothing');

    const removed = await h.call('POST', '/v1/apps/web1/processes/web/actions/scale', { cpu_millicores: null });
    assert.equal(removed.status, 202);
    assert.equal(removed.body.cpu_millicores, null);
    assert.ok(removed.body.release_version);
    assert.equal((await settled('web1')).state, 'DEPLOYED');
    const latest = (await h.call('GET', `/v1/apps/web1/releases/v${removed.body.release_version}`)).body;
    await until('only instances of the release without a quota', async () => {
      await refresh();
      return jobs().length === 1 && jobs()[0].releaseId === latest.id;
    });
    assert.equal(jobs()[0].cpuMillicores, undefined);
  });

  test('roles: a viewer reads but cannot scale (403); another space cannot see the app (404)', async () => {
    const app = (await h.call('GET', '/v1/apps/web1')).body;
    const viewer = await userWithRole('vera', app.space_id, 'VIEWER');
    assert.equal((await h.call('GET', '/v1/apps/web1/releases', undefined, viewer)).status, 200);
    const scale = await h.call('POST', '/v1/apps/web1/processes/web/actions/scale', { instances: 2 }, viewer);
    assert.equal(scale.status, 403);
    assert.match(scale.body.error.message, /viewer/);
    const org = await prisma.org.create({ data: { name: 'other-org' } });
    const other = await prisma.space.create({ data: { orgId: org.id, name: 'other' } });
    const outsider = await userWithRole('otto', other.id, 'DEVELOPER');
    const hidden = await h.call('GET', '/v1/apps/web1', undefined, outsider);
    assert.equal(hidden.status, 404);
    const list = await h.call('GET', '/v1/apps', undefined, outsider);
    assert.deepEqual(list.body.resources, []);
    const dev = await userWithRole('dina', app.space_id, 'DEVELOPER');
    assert.equal((await h.call('PATCH', '/v1/apps/web1/env', { var: { BY_DEV: '1' } }, dev)).status, 202);
    await settled('web1');
  });
});
