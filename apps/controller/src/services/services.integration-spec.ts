/**
 * Backing services through the API, against a real Postgres and Redis (the controller's), the real
 * cell agent on the fake runtime for the apps, and a service cell (testing/service-cell.ts) that
 * runs each instance's server for real with the admin login of its start-service job, reporting
 * its ServiceState as a cell does. Apps ask more memory than the service cell announces, so they
 * run on the agent; instances go to the service cell, the least used one with room.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { CellJobName, serviceInstanceViewSchema, serviceOfferingViewSchema, servicePlanViewSchema, type BoundService } from '@paas/contracts';
import { pollUntil } from '@paas/local-services';
import { adminActor, startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { startCellAgent, type CellAgentProcess } from '../testing/cell-agent';
import { cellJobs } from '../testing/cell-jobs';
import { pushThroughHook } from '../testing/push';
import { MINIMAL_SOURCE, tarOf } from '../testing/source-tar';
import { ServiceCell } from '../testing/service-cell';
import { PrismaService } from '../platform/database/prisma.service';
import { ServiceProvisioningService } from './service-provisioning.service';
import { createApp, createOrg, createSpace, createUser, expectStatus, grant, type TestUser } from '../testing/tenancy-fixtures';

/** More than the service cell announces: an app instance never fits there. */
const APP_MEMORY_MB = 16_384;
const SERVICE_CELL_MB = 8_192;

describe('backing services: marketplace, instances, bindings', () => {
  let h: ControllerHarness;
  let agent: CellAgentProcess | undefined;
  let serviceCell: ServiceCell | undefined;
  let space: string;
  let otherSpace: string;
  let viewer: TestUser;
  let outsider: TestUser;

  const instance = async (name: string, token?: string) => (await h.call('GET', `/v1/service_instances/${name}?space_id=${space}`, undefined, token)).body;
  const created = (name: string) =>
    pollUntil(`the create of ${name} to end`, async () => {
      const view = await instance(name);
      return view?.last_operation?.state !== 'in progress' ? view : undefined;
    }, { timeoutMs: 60_000 });
  const createInstance = async (name: string, offering: string, spaceId = space) =>
    expectStatus(await h.call('POST', '/v1/service_instances', { name, offering, plan: 'small', space_id: spaceId }), 202, `create ${name}`).body;

  /** The `services` of the start-instance jobs the agent got for release `version` of `app`. */
  async function servicesOfRelease(app: string, version: number): Promise<BoundService[]> {
    const release = expectStatus(await h.call('GET', `/v1/apps/${app}/releases`), 200).body.resources.find((r: { version: number }) => r.version === version);
    assert.ok(release, `release v${version} of ${app}`);
    return pollUntil(`a start-instance job of ${app} v${version}`, async () => {
      const job = (await cellJobs(h, agent!.id, CellJobName.StartInstance)).find((j) => j.data.releaseId === release.id);
      return job ? ((job.data.services ?? []) as BoundService[]) : undefined;
    });
  }

  /** A binding's credentials as the controller recorded them (an app without a release has no start job to read them from). */
  async function recordedCredentials(app: string, instanceName: string): Promise<BoundService['credentials']> {
    const binding = await h.app.get(PrismaService).serviceBinding.findFirstOrThrow({ where: { app: { name: app }, serviceInstance: { name: instanceName } } });
    return binding.credentials as BoundService['credentials'];
  }

  /** Waits until no deployment of the app runs (a change that rolls a release answers 409 meanwhile). */
  const settled = (app: string) =>
    pollUntil(`the deployment of ${app} to end`, async () => {
      const [last] = expectStatus(await h.call('GET', `/v1/apps/${app}/deployments?per_page=1`), 200).body.resources;
      return !last || last.state !== 'DEPLOYING';
    }, { timeoutMs: 60_000 });

  async function pgClient(credentials: BoundService['credentials']): Promise<Client> {
    const client = new Client({ connectionString: String(credentials.uri) });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  before(async () => {
    h = await startControllerHarness();
    const org = await createOrg(h, 'svc-org');
    space = await createSpace(h, org, 'svc-space');
    otherSpace = await createSpace(h, org, 'svc-other');
    viewer = await createUser(h, 'svc-viewer');
    await grant(h, space, viewer, 'viewer');
    outsider = await createUser(h, 'svc-outsider');
    await grant(h, otherSpace, outsider, 'developer');
    agent = await startCellAgent(h, 'fake-apps');
    serviceCell = new ServiceCell('svc-cell', h, SERVICE_CELL_MB);
    await serviceCell.start();
    for (const app of ['svc-app', 'svc-app2']) {
      await createApp(h, space, app);
      expectStatus(await h.call('POST', `/v1/apps/${app}/processes/web/actions/scale`, { memory_mb: APP_MEMORY_MB }), 202, `scale ${app}`);
    }
    // svc-app runs (its instance on the agent) before any instance is placed; svc-app2 has no release.
    const push = await pushThroughHook(h.url, h.internalToken, 'svc-app', await adminActor(h));
    assert.ok(push.ok, push.text);
  });

  after(async () => {
    await serviceCell?.stop();
    await agent?.stop();
    await h?.stop();
  });

  test('the marketplace lists the built-in offerings and their plans', async () => {
    const offerings = expectStatus(await h.call('GET', '/v1/service_offerings', undefined, viewer.token), 200).body.resources;
    assert.deepEqual(offerings.map((o: { name: string }) => o.name), ['postgresql', 'redis']);
    for (const o of offerings) assert.ok(serviceOfferingViewSchema.safeParse(o).success, JSON.stringify(o));
    assert.equal(offerings[0].broker, 'built-in');
    const plans = expectStatus(await h.call('GET', '/v1/service_plans?offering=redis'), 200).body.resources;
    assert.deepEqual(plans.map((p: { name: string; offering: string }) => `${p.offering}/${p.name}`), ['redis/small', 'redis/medium']);
    for (const p of plans) assert.ok(servicePlanViewSchema.safeParse(p).success);
    assert.equal(expectStatus(await h.call('GET', '/v1/service_plans'), 200).body.resources.length, 4);
    const unknown = expectStatus(await h.call('GET', '/v1/service_plans?offering=mysql'), 422).body;
    assert.match(unknown.error.message, /postgresql, redis/);
  });

  test('a create answers 202 in progress, and succeeds once the cell reports the server running; the server is prepared', async () => {
    const accepted = await createInstance('pg1', 'postgresql');
    assert.ok(serviceInstanceViewSchema.safeParse(accepted).success, JSON.stringify(accepted));
    assert.equal(accepted.last_operation.type, 'create');
    assert.equal(accepted.last_operation.state, 'in progress');
    assert.equal(accepted.status, null);
    assert.equal(accepted.cell_id, 'svc-cell');
    const done = await created('pg1');
    assert.equal(done.last_operation.state, 'succeeded', JSON.stringify(done));
    assert.equal(done.status, 'available');
    // As the server's admin: the owner role cannot log in, the database is its own, PUBLIC may not connect.
    const job = serviceCell!.startJobs.find((j) => j.serviceInstanceId === done.id)!;
    const server = serviceCell!.servers.get(done.id)!;
    const admin = new Client({ host: '127.0.0.1', port: server.state.port, user: job.adminUser, password: job.adminPassword, database: 'postgres' });
    await admin.connect();
    try {
      const hex = done.id.replace(/-/g, '');
      const owner = await admin.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [`o_${hex}`]);
      assert.equal(owner.rows[0]?.rolcanlogin, false);
      const db = await admin.query(`SELECT pg_get_userbyid(datdba) AS owner, has_database_privilege('public', datname, 'CONNECT') AS public_connect FROM pg_database WHERE datname = $1`, [`d_${hex}`]);
      assert.deepEqual(db.rows[0], { owner: `o_${hex}`, public_connect: false });
      const system = await admin.query(`SELECT datname FROM pg_database WHERE datname IN ('postgres', 'template1') AND has_database_privilege('public', datname, 'CONNECT')`);
      assert.deepEqual(system.rows, []);
    } finally {
      await admin.end();
    }
    const listed = expectStatus(await h.call('GET', `/v1/service_instances?space_id=${space}&names=pg1`, undefined, viewer.token), 200).body.resources;
    assert.deepEqual(listed.map((i: { name: string }) => i.name), ['pg1']);
  });

  test('a server the cell reports failed fails the create with the cell\'s error', async () => {
    serviceCell!.failStarts = 'mkfs.ext4 failed: no space left on device';
    await createInstance('pg-broken', 'postgresql');
    const done = await created('pg-broken');
    assert.equal(done.last_operation.state, 'failed');
    assert.match(done.last_operation.description, /mkfs\.ext4 failed: no space left on device/);
    assert.equal(done.status, null);
  });

  test('bad creates: 400 for a bad name, 422 naming the offerings and plans there are, 409 for a name taken', async () => {
    assert.match(expectStatus(await h.call('POST', '/v1/service_instances', { name: 'Bad_Name', offering: 'redis', plan: 'small', space_id: space }), 400).body.error.message, /name/);
    assert.match(expectStatus(await h.call('POST', '/v1/service_instances', { name: 'x', offering: 'mysql', plan: 'small', space_id: space }), 422).body.error.message, /postgresql, redis/);
    assert.match(expectStatus(await h.call('POST', '/v1/service_instances', { name: 'x', offering: 'redis', plan: 'huge', space_id: space }), 422).body.error.message, /small, medium/);
    assert.match(expectStatus(await h.call('POST', '/v1/service_instances', { name: 'pg1', offering: 'redis', plan: 'small', space_id: space }), 409).body.error.message, /pg1 already/);
    assert.equal((await h.call('GET', `/v1/service_instances?space_id=${space}&names=x`)).body.resources.length, 0);
  });

  test('binding makes a login of its own, rolls a release whose start jobs carry the service, and shares the data with other bindings', async () => {
    const bound = expectStatus(await h.call('POST', '/v1/apps/svc-app/service_bindings', { service_instance: 'pg1' }), 201, 'bind').body;
    assert.equal(bound.binding.service_instance_name, 'pg1');
    assert.equal(bound.release_version, 2);
    assert.ok(bound.deployment_id);
    const services = await servicesOfRelease('svc-app', 2);
    assert.equal(services.length, 1);
    const [svc] = services;
    assert.equal(svc.label, 'postgresql');
    assert.equal(svc.name, 'pg1');
    assert.equal(svc.urlVariable, 'DATABASE_URL');
    assert.deepEqual(Object.keys(svc.credentials).sort(), ['database', 'host', 'name', 'password', 'port', 'uri', 'username']);
    assert.deepEqual(svc.endpoint, { host: '127.0.0.1', port: svc.credentials.port });
    assert.match(String(svc.credentials.password), /^[A-Za-z0-9]{32}$/);
    // The app's login works, and what it creates belongs to the owner role: another binding reads it.
    const first = await pgClient(svc.credentials);
    try {
      await first.query('CREATE TABLE notes (body text)');
      await first.query("INSERT INTO notes VALUES ('hello')");
    } finally {
      await first.end();
    }
    const second = expectStatus(await h.call('POST', '/v1/apps/svc-app2/service_bindings', { service_instance: 'pg1' }), 201, 'bind app2').body;
    assert.equal(second.release_version, null, 'an app without a release rolls nothing');
    const bindings = expectStatus(await h.call('GET', '/v1/apps/svc-app2/service_bindings'), 200).body.resources;
    assert.deepEqual(bindings.map((b: { service_instance_name: string }) => b.service_instance_name), ['pg1']);
    // Each binding has a login of its own on the server.
    const job = serviceCell!.startJobs.find((j) => j.serviceInstanceId === svc.instanceId)!;
    const admin = new Client({ host: '127.0.0.1', port: Number(svc.credentials.port), user: job.adminUser, password: job.adminPassword, database: 'postgres' });
    await admin.connect();
    const logins = (await admin.query(`SELECT rolname FROM pg_roles WHERE rolname LIKE 'b\\_%' AND rolcanlogin ORDER BY rolname`)).rows.map((r) => r.rolname as string);
    await admin.end();
    const secondLogin = String((await recordedCredentials('svc-app2', 'pg1')).username);
    assert.notEqual(secondLogin, svc.credentials.username);
    assert.deepEqual(logins, [String(svc.credentials.username), secondLogin].sort());
    assert.deepEqual((await instance('pg1')).bound_apps.sort(), ['svc-app', 'svc-app2']);
    assert.match(expectStatus(await h.call('POST', '/v1/apps/svc-app/service_bindings', { service_instance: 'pg1' }), 409).body.error.message, /already/);
  });

  test('a second binding of the instance reads what the first created', async () => {
    const reader = await pgClient(await recordedCredentials('svc-app2', 'pg1'));
    try {
      assert.deepEqual((await reader.query('SELECT body FROM notes')).rows, [{ body: 'hello' }]);
      await reader.query("INSERT INTO notes VALUES ('from app2')");
    } finally {
      await reader.end();
    }
  });

  test('a redis binding is an ACL user of its own that works; unbinding refuses it at once and rolls a release without it', async () => {
    await createInstance('cache', 'redis');
    assert.equal((await created('cache')).last_operation.state, 'succeeded');
    await settled('svc-app');
    const bound = expectStatus(await h.call('POST', '/v1/apps/svc-app/service_bindings', { service_instance: 'cache' }), 201).body;
    const services = await servicesOfRelease('svc-app', bound.release_version);
    assert.deepEqual(services.map((s) => s.name), ['pg1', 'cache']);
    const cache = services.find((s) => s.name === 'cache')!;
    assert.equal(cache.urlVariable, 'REDIS_URL');
    const client = new Redis(String(cache.credentials.uri), { maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    await client.set('k', 'v');
    assert.equal(await client.get('k'), 'v');
    await assert.rejects(client.call('ACL', 'LIST'), /NOPERM/);
    await settled('svc-app');
    const unbound = expectStatus(await h.call('DELETE', '/v1/apps/svc-app/service_bindings/cache'), 200).body;
    assert.ok(unbound.deployment_id);
    // ACL DELUSER disconnects the user's clients; a new login is refused.
    await pollUntil('the bound client to be disconnected', () => client.status === 'end' || client.status === 'close');
    const again = new Redis({ host: String(cache.credentials.host), port: Number(cache.credentials.port), enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    again.on('error', () => undefined);
    await assert.rejects(again.call('AUTH', String(cache.credentials.username), String(cache.credentials.password)), /WRONGPASS/);
    again.disconnect();
    assert.deepEqual((await servicesOfRelease('svc-app', unbound.release_version)).map((s) => s.name), ['pg1']);
    expectStatus(await h.call('DELETE', '/v1/apps/svc-app/service_bindings/cache'), 404);
  });

  test('unbinding postgres ends the login\'s sessions and refuses it at once', async () => {
    const credentials = await recordedCredentials('svc-app2', 'pg1');
    const session = await pgClient(credentials);
    // A session that leaves the owner role creates a table of its own login: it stays, as the owner's.
    await session.query('RESET ROLE');
    await session.query('CREATE TABLE own_table (x int)');
    expectStatus(await h.call('DELETE', '/v1/apps/svc-app2/service_bindings/pg1'), 200);
    await assert.rejects(session.query('SELECT 1'));
    await session.end().catch(() => undefined);
    await assert.rejects(pgClient(credentials), /password authentication failed|does not exist|not permitted to log in/);
    const [svc] = await servicesOfRelease('svc-app', 2);
    const stillBound = await pgClient(svc.credentials);
    try {
      assert.deepEqual((await stillBound.query('SELECT count(*)::int AS n FROM own_table')).rows, [{ n: 0 }]);
    } finally {
      await stillBound.end();
    }
  });

  test('deleting an app drops its bindings\' logins, then the bindings', async () => {
    expectStatus(await h.call('POST', '/v1/apps/svc-app2/service_bindings', { service_instance: 'pg1' }), 201);
    const credentials = await recordedCredentials('svc-app2', 'pg1');
    await (await pgClient(credentials)).end();
    expectStatus(await h.call('DELETE', '/v1/apps/svc-app2'), 204);
    await assert.rejects(pgClient(credentials), /password authentication failed|does not exist|not permitted to log in/);
    assert.deepEqual((await instance('pg1')).bound_apps, ['svc-app']);
  });

  test('a pushed manifest binds the services it lists; one that does not exist rejects the push', async () => {
    await createInstance('queue', 'redis');
    assert.equal((await created('queue')).last_operation.state, 'succeeded');
    await settled('svc-app');
    const missing = await pushThroughHook(h.url, h.internalToken, 'svc-app', await adminActor(h), await tarOf({ ...MINIMAL_SOURCE, 'manifest.yml': 'applications:\n- name: svc-app\n  services: [nope]\n' }));
    assert.equal(missing.ok, false);
    assert.match(missing.text, /applications\[0\]\.services\[0\]: there is no service instance nope in space svc-space: create it first/);
    const manifest = 'applications:\n- name: svc-app\n  services:\n  - pg1\n  - name: queue\n';
    const push = await pushThroughHook(h.url, h.internalToken, 'svc-app', await adminActor(h), await tarOf({ ...MINIMAL_SOURCE, 'manifest.yml': manifest }));
    assert.ok(push.ok, push.text);
    assert.match(push.text, /Manifest: services pg1, queue \(bound queue\)/);
    const [release] = expectStatus(await h.call('GET', '/v1/apps/svc-app/releases?per_page=1'), 200).body.resources;
    assert.deepEqual((await servicesOfRelease('svc-app', release.version)).map((s) => s.name), ['pg1', 'queue']);
    assert.deepEqual((await instance('queue')).bound_apps, ['svc-app']);
  });

  test('an instance with bindings cannot be deleted; without, it is deleted and gone', async () => {
    const refused = expectStatus(await h.call('DELETE', `/v1/service_instances/pg1?space_id=${space}`), 409).body;
    assert.match(refused.error.message, /bound to svc-app: unbind it first/);
    const deleting = expectStatus(await h.call('DELETE', `/v1/service_instances/cache?space_id=${space}`), 202).body;
    assert.equal(deleting.last_operation.type, 'delete');
    assert.equal(deleting.last_operation.state, 'in progress');
    await pollUntil('cache to be gone', async () => (await h.call('GET', `/v1/service_instances/cache?space_id=${space}`)).status === 404);
    assert.equal(serviceCell!.servers.has(deleting.id), false);
  });

  test('bindings refuse instances of another space (422) and instances not created (409)', async () => {
    const foreign = await createInstance('foreign', 'redis', otherSpace);
    assert.match(expectStatus(await h.call('POST', '/v1/apps/svc-app/service_bindings', { service_instance: foreign.id }), 422).body.error.message, /own space/);
    const failed = await instance('pg-broken');
    assert.match(expectStatus(await h.call('POST', '/v1/apps/svc-app/service_bindings', { service_instance: failed.id }), 409).body.error.message, /create failed/);
    expectStatus(await h.call('POST', '/v1/apps/svc-app/service_bindings', {}), 400);
  });

  test('access: viewers read but may not change; another space\'s developer sees nothing (404)', async () => {
    expectStatus(await h.call('GET', `/v1/service_instances/pg1`, undefined, viewer.token), 200);
    expectStatus(await h.call('PATCH', `/v1/service_instances/pg1`, { name: 'pg2' }, viewer.token), 403);
    expectStatus(await h.call('DELETE', `/v1/service_instances/pg-broken`, undefined, viewer.token), 403);
    expectStatus(await h.call('GET', `/v1/service_instances/pg1`, undefined, outsider.token), 404);
    expectStatus(await h.call('GET', `/v1/service_instances/${(await instance('pg1')).id}`, undefined, outsider.token), 404);
    expectStatus(await h.call('DELETE', `/v1/service_instances/pg1`, undefined, outsider.token), 404);
    expectStatus(await h.call('POST', '/v1/apps/svc-app/service_bindings', { service_instance: 'pg1' }, outsider.token), 404);
    const seen = expectStatus(await h.call('GET', '/v1/service_instances', undefined, outsider.token), 200).body.resources;
    assert.deepEqual(seen.map((i: { name: string }) => i.name), ['foreign']);
    // A name in several spaces the caller sees: 409 asking for space_id.
    await createInstance('pg-broken', 'redis', otherSpace);
    assert.match(expectStatus(await h.call('GET', '/v1/service_instances/pg-broken'), 409).body.error.message, /space_id/);
    const renamed = expectStatus(await h.call('PATCH', `/v1/service_instances/pg-broken?space_id=${space}`, { name: 'pg-gone' }), 200).body;
    assert.equal(renamed.name, 'pg-gone');
  });

  test('an instance its live cell stopped reporting is unavailable, and gets its start-service job again after a while', async () => {
    const queue = await instance('queue');
    const starts = () => serviceCell!.startJobs.filter((j) => j.serviceInstanceId === queue.id).length;
    const before = starts();
    await serviceCell!.forgetReport(queue.id);
    const unreported = await pollUntil('queue to be unreported', async () => {
      const view = await instance('queue');
      return view.status === 'unavailable' ? view : undefined;
    });
    assert.match(unreported.status_reason, /cell svc-cell has not reported it/);
    // Time is the pass's to inject: once seen unreported now, then a minute and more later.
    const provisioning = h.app.get(ServiceProvisioningService);
    await provisioning.pass(Date.now());
    await provisioning.pass(Date.now() + 61_000);
    await pollUntil('the start-service job again', () => starts() > before);
    assert.equal((await pollUntil('queue to be available again', async () => ((await instance('queue')).status === 'available' ? true : undefined))), true);
  });

  test('a lost cell makes its instances unavailable, keeps them there, and a delete removes the record at once', async () => {
    await createInstance('stranded', 'redis');
    assert.equal((await created('stranded')).status, 'available');
    await serviceCell!.lose();
    const lost = await pollUntil('stranded to be unavailable', async () => {
      const view = await instance('stranded');
      return view.status === 'unavailable' ? view : undefined;
    });
    assert.equal(lost.status_reason, 'cell svc-cell is lost: its data stays on its volume');
    assert.equal(lost.cell_id, 'svc-cell');
    const deleted = expectStatus(await h.call('DELETE', `/v1/service_instances/stranded?space_id=${space}`), 202).body;
    assert.equal(deleted.last_operation.state, 'succeeded');
    assert.match(deleted.last_operation.description, /cell svc-cell is lost: the record is removed; its volume stays on that cell/);
    expectStatus(await h.call('GET', `/v1/service_instances/stranded?space_id=${space}`), 404);
  });
});
