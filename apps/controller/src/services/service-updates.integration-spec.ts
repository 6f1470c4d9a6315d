/**
 * Resizing managed instances (PATCH plan), their backup retention, and service keys, through the
 * API against a real Postgres and Redis (the controller's) and a service cell
 * (testing/service-cell.ts) that runs each instance's server for real and takes update-service
 * jobs as the contract says (the new sizes reported once in force; `failUpdates`, `holdUpdates`).
 * The cell announces 1 GB at first: two small instances leave too little for a medium plan.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { serviceJobId, serviceKeyViewSchema } from '@paas/contracts';
import { pollUntil } from '@paas/local-services';
import { startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { ServiceCell } from '../testing/service-cell';
import { PrismaService } from '../platform/database/prisma.service';
import { ServiceProvisioningService } from './service-provisioning.service';
import { SERVICE_UPDATE_TIMEOUT_MS } from './service-updates.service';
import { createOrg, createSpace, createUser, expectStatus, grant, type TestUser } from '../testing/tenancy-fixtures';

type Credentials = Record<string, string | number>;

describe('service instances: resize, backup retention, service keys', () => {
  let h: ControllerHarness;
  let cell: ServiceCell | undefined;
  let space: string;
  let viewer: TestUser;
  let developer: TestUser;
  let outsider: TestUser;
  const pgSessions: Client[] = [];

  const path = (name: string, rest = '') => `/v1/service_instances/${name}${rest}?space_id=${space}`;
  const instance = async (name: string) => expectStatus(await h.call('GET', path(name)), 200, `GET ${name}`).body;
  const settled = (name: string) =>
    pollUntil(`the operation on ${name} to end`, async () => {
      const view = await instance(name);
      return view.last_operation.state !== 'in progress' ? view : undefined;
    }, { timeoutMs: 60_000 });
  const events = async (type: string, id: string) => expectStatus(await h.call('GET', `/v1/events?types=${type}&target_id=${id}`), 200).body.resources;

  async function pgConnect(credentials: Credentials): Promise<Client> {
    const client = new Client({ connectionString: String(credentials.uri) });
    client.on('error', () => undefined);
    await client.connect();
    pgSessions.push(client);
    return client;
  }

  before(async () => {
    h = await startControllerHarness();
    const org = await createOrg(h, 'upd-org');
    space = await createSpace(h, org, 'upd-space');
    const otherSpace = await createSpace(h, org, 'upd-other');
    viewer = await createUser(h, 'upd-viewer');
    await grant(h, space, viewer, 'viewer');
    developer = await createUser(h, 'upd-dev');
    await grant(h, space, developer, 'developer');
    outsider = await createUser(h, 'upd-outsider');
    await grant(h, otherSpace, outsider, 'developer');
    cell = new ServiceCell('upd-cell', h, 1024);
    await cell.start();
    for (const [name, offering] of [['db', 'postgresql'], ['cache', 'redis']]) {
      expectStatus(await h.call('POST', '/v1/service_instances', { name, offering, plan: 'small', space_id: space }), 202, `create ${name}`);
    }
    for (const name of ['db', 'cache']) assert.equal((await settled(name)).status, 'available', `${name} is created`);
  });

  after(async () => {
    for (const client of pgSessions) await client.end().catch(() => undefined);
    await cell?.stop();
    await h?.stop();
  });

  test('a service key is a login of its own: its credentials work, lists never show them, developers make them', async () => {
    const created = expectStatus(await h.call('POST', path('db', '/keys'), { name: 'ops' }, developer.token), 201, 'create key').body;
    assert.ok(serviceKeyViewSchema.safeParse(created).success, JSON.stringify(created));
    assert.equal(created.service_instance_name, 'db');
    const credentials = created.credentials as Credentials;
    assert.deepEqual(Object.keys(credentials).sort(), ['database', 'host', 'name', 'password', 'port', 'uri', 'username']);
    assert.equal(credentials.username, `k_${created.id.replace(/-/g, '')}`);
    // The key's login acts as the owner role: what it creates, bindings (and other keys) use.
    const session = await pgConnect(credentials);
    await session.query('CREATE TABLE orders (id int PRIMARY KEY, item text)');
    await session.query("INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 500) g");
    assert.deepEqual((await session.query('SELECT current_user AS u')).rows, [{ u: `o_${(await instance('db')).id.replace(/-/g, '')}` }]);

    const listed = expectStatus(await h.call('GET', path('db', '/keys'), undefined, viewer.token), 200).body.resources;
    assert.deepEqual(listed.map((k: { name: string }) => k.name), ['ops']);
    assert.equal('credentials' in listed[0], false, 'a list never carries credentials');
    const one = expectStatus(await h.call('GET', path('db', '/keys/ops')), 200).body;
    assert.deepEqual(one.credentials, credentials);
    assert.deepEqual(expectStatus(await h.call('GET', path('db', `/keys/${created.id}`), undefined, developer.token), 200).body.credentials, credentials);
    assert.match(expectStatus(await h.call('GET', path('db', '/keys/ops'), undefined, viewer.token), 403).body.error.message, /viewer: reading the credentials of service key ops needs the developer or admin role/);
    expectStatus(await h.call('POST', path('db', '/keys'), { name: 'mine' }, viewer.token), 403);
    expectStatus(await h.call('DELETE', path('db', '/keys/ops'), undefined, viewer.token), 403);
    expectStatus(await h.call('GET', `/v1/service_instances/${created.service_instance_id}/keys`, undefined, outsider.token), 404);
    expectStatus(await h.call('GET', `/v1/service_instances/${created.service_instance_id}/keys/ops`, undefined, outsider.token), 404);
    const event = (await events('service-key-created', created.service_instance_id))[0];
    assert.equal(event.data.key, 'ops');
    assert.ok(!JSON.stringify(event).includes(String(credentials.password)), 'no password in events');
  });

  test('key names follow the app-name rules and are unique per instance; unknown keys are 404', async () => {
    expectStatus(await h.call('POST', path('db', '/keys'), { name: 'Bad_Key' }), 400);
    expectStatus(await h.call('POST', path('db', '/keys'), {}), 400);
    expectStatus(await h.call('POST', path('db', '/keys'), { name: 'ops', extra: 1 }), 400);
    assert.match(expectStatus(await h.call('POST', path('db', '/keys'), { name: 'ops' }), 409).body.error.message, /has a key named ops already/);
    expectStatus(await h.call('GET', path('db', '/keys/nope')), 404);
    expectStatus(await h.call('DELETE', path('db', '/keys/nope')), 404);
    assert.deepEqual(expectStatus(await h.call('GET', path('cache', '/keys')), 200).body.resources, []);
  });

  test('an instance with keys cannot be deleted: 409 naming them', async () => {
    const refused = expectStatus(await h.call('DELETE', path('db')), 409).body;
    assert.match(refused.error.message, /has service keys ops: delete its service keys first: paas delete-service-key db ops/);
    assert.equal((await instance('db')).last_operation.type, 'create');
  });

  test('bad updates change nothing: unknown plan (422 naming the plans), retention out of range, nothing asked', async () => {
    assert.match(expectStatus(await h.call('PATCH', path('db'), { plan: 'huge' }), 422).body.error.message, /no plan "huge": choose one of small, medium/);
    for (const backup_retention of [-1, 101, 1.5, '7']) expectStatus(await h.call('PATCH', path('db'), { backup_retention }), 400, `retention ${backup_retention}`);
    assert.match(expectStatus(await h.call('PATCH', path('db'), {}), 400).body.error.message, /name, plan or backup_retention/);
    expectStatus(await h.call('PATCH', path('db'), { plan: 'medium' }, viewer.token), 403);
    const same = expectStatus(await h.call('PATCH', path('db'), { plan: 'small' }), 200).body;
    assert.equal(same.last_operation.type, 'create', 'the plan in force again: nothing happens');
    assert.equal(cell!.updateJobs.length, 0);
  });

  test('backup_retention is kept per managed instance (0-100) and recorded as an event', async () => {
    assert.equal((await instance('db')).backup_retention, 7);
    const changed = expectStatus(await h.call('PATCH', path('db'), { backup_retention: 30 }, developer.token), 200).body;
    assert.equal(changed.backup_retention, 30);
    assert.equal(changed.last_operation.type, 'create');
    assert.equal(expectStatus(await h.call('PATCH', path('db'), { backup_retention: 0 }), 200).body.backup_retention, 0);
    const [latest] = await events('service-instance-backup-retention-changed', changed.id);
    assert.deepEqual(latest.data, { from: 30, to: 0 });
  });

  test('a resize needs room on the instance\'s own cell for the memory it adds', async () => {
    const refused = expectStatus(await h.call('PATCH', path('db'), { plan: 'medium' }), 422).body;
    assert.match(refused.error.message, /cell upd-cell, where db lives .* has \d+ MB of memory free and plan medium needs 768 MB more/);
    assert.equal((await instance('db')).plan, 'small');
    assert.equal(cell!.updateJobs.length, 0);
  });

  test('a resize answers 202 update in progress with the old plan in force, queues update-service on the cell, and succeeds once the cell reports the new sizes; the data stays', async () => {
    cell!.memoryMb = 4096;
    cell!.holdUpdates();
    const accepted = await pollUntil('the cell to announce room for the resize', async () => {
      const res = await h.call('PATCH', path('db'), { plan: 'medium' });
      return res.status === 422 ? undefined : expectStatus(res, 202, 'resize').body;
    });
    assert.equal(accepted.last_operation.type, 'update');
    assert.equal(accepted.last_operation.state, 'in progress');
    assert.match(accepted.last_operation.description, /resizing it from plan small to medium \(256 MB memory, 1024 MB disk → 1024 MB, 10240 MB\)/);
    assert.equal(accepted.plan, 'small', 'the old plan is in force until the cell runs the new one');
    const job = await pollUntil('the update-service job on the cell', () => cell!.updateJobs.find((j) => j.serviceInstanceId === accepted.id));
    assert.deepEqual({ memoryMb: job.memoryMb, diskMb: job.diskMb }, { memoryMb: 1024, diskMb: 10240 });
    assert.equal(job.jobId, serviceJobId.update(accepted.id, Date.parse(accepted.last_operation.updated_at)));

    // While it runs: another resize and a new key are refused (409).
    assert.match(expectStatus(await h.call('PATCH', path('db'), { plan: 'medium' }), 409).body.error.message, /its update is in progress; wait until it ends/);
    assert.match(expectStatus(await h.call('POST', path('db', '/keys'), { name: 'later' }), 409).body.error.message, /its update is in progress/);
    assert.equal((await instance('db')).status, 'available', 'the server keeps its status during the update');

    cell!.releaseUpdates();
    const done = await settled('db');
    assert.equal(done.last_operation.type, 'update');
    assert.equal(done.last_operation.state, 'succeeded', JSON.stringify(done.last_operation));
    assert.equal(done.plan, 'medium');
    assert.equal(done.status, 'available');
    const record = await h.app.get(PrismaService).serviceInstance.findUniqueOrThrow({ where: { id: done.id } });
    assert.deepEqual({ memoryMb: record.memoryMb, diskMb: record.diskMb, updatePlan: record.updatePlan }, { memoryMb: 1024, diskMb: 10240, updatePlan: null });
    const key = expectStatus(await h.call('GET', path('db', '/keys/ops')), 200).body;
    const session = await pgConnect(key.credentials);
    assert.deepEqual((await session.query('SELECT count(*)::int AS n FROM orders')).rows, [{ n: 500 }]);
    assert.deepEqual((await events('service-instance-update-succeeded', done.id))[0].data, { from_plan: 'small', to_plan: 'medium', cell_id: 'upd-cell' });
    const again = expectStatus(await h.call('PATCH', path('db'), { plan: 'medium' }), 200).body;
    assert.equal(again.last_operation.state, 'succeeded', 'the plan in force again changes nothing');
  });

  test('a plan change cannot shrink the disk', async () => {
    const refused = expectStatus(await h.call('PATCH', path('db'), { plan: 'small' }), 422).body;
    assert.equal(refused.error.message, 'a plan change cannot shrink the disk (10240 MB → 1024 MB): create a new instance from a backup instead');
  });

  test('a resize the cell fails leaves the old plan in force, with the reason; the instance stays usable', async () => {
    cell!.failUpdates = 'resize2fs: no space left on the cell\'s disk';
    expectStatus(await h.call('PATCH', path('cache'), { plan: 'medium' }), 202);
    const done = await settled('cache');
    assert.equal(done.last_operation.type, 'update');
    assert.equal(done.last_operation.state, 'failed');
    assert.match(done.last_operation.description, /cell upd-cell could not resize it: resize2fs: no space left on the cell's disk; plan small stays in force/);
    assert.equal(done.plan, 'small');
    assert.equal(done.status, 'available');
    assert.equal((await events('service-instance-update-failed', done.id)).length, 1);
    // Still created: a key is made and works.
    const key = expectStatus(await h.call('POST', path('cache', '/keys'), { name: 'ops' }), 201).body;
    const client = new Redis(String(key.credentials.uri), { maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.set('k', 'v');
      assert.equal(await client.get('k'), 'v');
      await assert.rejects(client.call('ACL', 'LIST'), /NOPERM/);
      // Deleting the key refuses its login at once (ACL DELUSER disconnects it).
      expectStatus(await h.call('DELETE', path('cache', '/keys/ops')), 204);
      await pollUntil('the key\'s client to be disconnected', () => client.status === 'end' || client.status === 'close');
    } finally {
      client.disconnect();
    }
    const again = new Redis({ host: String(key.credentials.host), port: Number(key.credentials.port), enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    again.on('error', () => undefined);
    await assert.rejects(again.call('AUTH', String(key.credentials.username), String(key.credentials.password)), /WRONGPASS/);
    again.disconnect();
  });

  test('a resize the cell never finishes fails after the timeout, naming what the cell reports', async () => {
    cell!.holdUpdates();
    const accepted = expectStatus(await h.call('PATCH', path('cache'), { plan: 'medium' }), 202).body;
    await pollUntil('the held update-service job', () => cell!.updateJobs.some((j) => j.serviceInstanceId === accepted.id && j.jobId.endsWith(String(Date.parse(accepted.last_operation.updated_at)))));
    await h.app.get(ServiceProvisioningService).pass(Date.parse(accepted.last_operation.updated_at) + SERVICE_UPDATE_TIMEOUT_MS + 1_000);
    const done = await instance('cache');
    assert.equal(done.last_operation.state, 'failed');
    assert.match(done.last_operation.description, /did not run the server with plan medium's sizes within 10 minutes \(it reports the server running with 256 MB memory, 1024 MB disk\); plan small stays in force/);
    assert.equal(done.plan, 'small');
    cell!.releaseUpdates();
  });

  test('deleting a key drops its login at once: open sessions end, the password is refused', async () => {
    const key = expectStatus(await h.call('GET', path('db', '/keys/ops')), 200).body;
    const session = await pgConnect(key.credentials);
    assert.deepEqual((await session.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    expectStatus(await h.call('DELETE', path('db', '/keys/ops'), undefined, developer.token), 204);
    await assert.rejects(session.query('SELECT 1'));
    await assert.rejects(pgConnect(key.credentials), /password authentication failed|does not exist|not permitted to log in/);
    expectStatus(await h.call('GET', path('db', '/keys/ops')), 404);
    assert.equal((await events('service-key-deleted', key.service_instance_id))[0].data.key, 'ops');
  });

  test('user-provided instances have no plan, retention or keys (422)', async () => {
    const prisma = h.app.get(PrismaService);
    const ups = await prisma.serviceInstance.create({
      data: { spaceId: space, name: 'ups', type: 'user-provided', offering: 'user-provided', plan: '', memoryMb: 0, diskMb: 0, adminUser: '', adminPassword: '', credentials: { uri: 'smtp://x' }, operationType: 'create', operationState: 'succeeded' },
    });
    assert.match(expectStatus(await h.call('PATCH', path('ups'), { plan: 'small' }), 422).body.error.message, /plan applies to managed instances only, and ups is user-provided/);
    assert.match(expectStatus(await h.call('PATCH', path('ups'), { backup_retention: 3 }), 422).body.error.message, /backup_retention applies to managed instances only/);
    assert.match(expectStatus(await h.call('POST', path('ups', '/keys'), { name: 'k' }), 422).body.error.message, /not supported for user-provided instances/);
    await prisma.serviceInstance.update({ where: { id: ups.id }, data: { type: 'brokered' } });
    assert.match(expectStatus(await h.call('POST', path('ups', '/keys'), { name: 'k' }), 422).body.error.message, /brokered instances are not supported yet/);
    await prisma.serviceInstance.delete({ where: { id: ups.id } });
  });

  test('a lost cell: resizes are refused saying so', async () => {
    await cell!.lose();
    const res = await pollUntil('the resize of cache to be refused for the lost cell', async () => {
      const r = await h.call('PATCH', path('cache'), { plan: 'medium' });
      return r.status === 409 && /is lost/.test(r.body.error.message) ? r : undefined;
    }, { timeoutMs: 60_000 });
    assert.match(res.body.error.message, /cannot be resized now: it is unavailable \(cell upd-cell is lost: its data stays on its volume\)/);
  });
});
