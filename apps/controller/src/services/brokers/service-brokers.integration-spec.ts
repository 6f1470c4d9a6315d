/**
 * User-provided instances and service brokers through the API, against the controller's real
 * Postgres and Redis, the real cell agent on the fake runtime (for the apps' start jobs) and a
 * real Open Service Broker over HTTP on 127.0.0.1 (the test broker of @paas/test-platform), whose
 * recorded requests show the OSB wire format the controller speaks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CellJobName, serviceBrokerViewSchema, serviceInstanceViewSchema, type BoundService } from '@paas/contracts';
import { pollUntil } from '@paas/local-services';
import { TEST_BROKER_PLAN_IDS, TEST_BROKER_SERVICE_ID, TestOsbBroker, testBrokerCatalog } from '@paas/testing';
import { adminActor, startControllerHarness, type ControllerHarness } from '../../testing/controller-harness';
import { startCellAgent, type CellAgentProcess } from '../../testing/cell-agent';
import { cellJobs } from '../../testing/cell-jobs';
import { pushThroughHook } from '../../testing/push';
import { PrismaService } from '../../platform/database/prisma.service';
import { BoundServicesService } from '../bound-services.service';
import { ServiceProvisioningService } from '../service-provisioning.service';
import { BROKER_OPERATION_TIMEOUT_MS } from './brokered-instances.service';
import { createApp, createOrg, createSpace, createUser, expectStatus, grant, type TestUser } from '../../testing/tenancy-fixtures';

describe('user-provided instances and service brokers', () => {
  let h: ControllerHarness;
  let agent: CellAgentProcess | undefined;
  const broker = new TestOsbBroker();
  let space: string;
  let orgId: string;
  let developer: TestUser;

  const instance = async (name: string) => (await h.call('GET', `/v1/service_instances/${name}?space_id=${space}`)).body;
  const finished = (name: string) =>
    pollUntil(`the operation of ${name} to end`, async () => {
      const view = await instance(name);
      return view?.last_operation?.state !== 'in progress' ? view : undefined;
    }, { timeoutMs: 60_000 });
  const settled = (app: string) =>
    pollUntil(`the deployment of ${app} to end`, async () => {
      const [last] = expectStatus(await h.call('GET', `/v1/apps/${app}/deployments?per_page=1`), 200).body.resources;
      return !last || last.state !== 'DEPLOYING';
    }, { timeoutMs: 60_000 });
  /** The `services` of the start-instance jobs the agent got for release `version` of `app`. */
  async function servicesOfRelease(app: string, version: number): Promise<BoundService[]> {
    const release = expectStatus(await h.call('GET', `/v1/apps/${app}/releases`), 200).body.resources.find((r: { version: number }) => r.version === version);
    assert.ok(release, `release v${version} of ${app}`);
    return pollUntil(`a start-instance job of ${app} v${version}`, async () => {
      const job = (await cellJobs(h, agent!.id, CellJobName.StartInstance)).find((j) => j.data.releaseId === release.id);
      return job ? ((job.data.services ?? []) as BoundService[]) : undefined;
    });
  }
  const register = (body: Record<string, unknown>, token?: string) => h.call('POST', '/v1/service_brokers', { name: 'b1', url: broker.url, username: broker.username, password: broker.password, ...body }, token);

  before(async () => {
    await broker.start();
    h = await startControllerHarness();
    orgId = await createOrg(h, 'osb-org');
    space = await createSpace(h, orgId, 'osb-space');
    developer = await createUser(h, 'osb-dev');
    await grant(h, space, developer, 'developer');
    agent = await startCellAgent(h, 'fake-osb');
    await createApp(h, space, 'osb-app');
    const push = await pushThroughHook(h.url, h.internalToken, 'osb-app', await adminActor(h));
    assert.ok(push.ok, push.text);
  });

  after(async () => {
    await agent?.stop();
    await h?.stop();
    await broker.stop();
  });

  test('registering a broker: admins only, a broker that does not answer, answers garbage or refuses the login stores nothing', async () => {
    assert.match(expectStatus(await register({}, developer.token), 403).body.error.message, /platform admin/);
    assert.match(expectStatus(await register({ url: 'ftp://127.0.0.1:1' }), 400).body.error.message, /http:\/\/ or https:\/\//);
    const down = expectStatus(await register({ url: 'http://127.0.0.1:1' }), 502).body;
    assert.match(down.error.message, /broker b1 at http:\/\/127\.0\.0\.1:1 did not answer fetching the catalog/);
    assert.match(expectStatus(await register({ password: 'wrong' }), 502).body.error.message, /broker b1 refused fetching the catalog \(HTTP 401: bad credentials\)/);
    broker.catalog = { services: [{ id: 'x', name: 'Not A Name', bindable: true, plans: [] }] };
    const garbage = expectStatus(await register({}), 422).body;
    assert.match(garbage.error.message, /in a shape this platform cannot use: services\.0\.name/);
    broker.catalog = 'this is not json';
    assert.match(expectStatus(await register({}), 422).body.error.message, /not JSON/);
    broker.catalog = testBrokerCatalog('postgresql');
    assert.match(expectStatus(await register({}), 422).body.error.message, /postgresql \(built-in\)/);
    assert.deepEqual(expectStatus(await h.call('GET', '/v1/service_brokers'), 200).body.resources, []);
    broker.catalog = testBrokerCatalog();
  });

  test('a registered broker: its catalog fetched with the OSB headers, its offerings in the marketplace, never its password', async () => {
    broker.requests.length = 0;
    const created = expectStatus(await register({}), 201, 'register').body;
    assert.ok(serviceBrokerViewSchema.safeParse(created).success, JSON.stringify(created));
    assert.deepEqual(created.offerings, ['test-db']);
    assert.equal(JSON.stringify(created).includes(broker.password), false);
    const [fetched] = broker.requestsTo('GET', '/v2/catalog');
    assert.equal(fetched.headers['x-broker-api-version'], '2.17');
    assert.equal(fetched.headers.authorization, `Basic ${Buffer.from(`${broker.username}:${broker.password}`).toString('base64')}`);
    const listed = expectStatus(await h.call('GET', '/v1/service_brokers'), 200).body.resources;
    assert.deepEqual(listed.map((b: { name: string }) => b.name), ['b1']);
    assert.equal(JSON.stringify(listed).includes(broker.password), false);
    expectStatus(await h.call('GET', '/v1/service_brokers', undefined, developer.token), 403);
    // Everybody sees the marketplace, with the broker named.
    const offerings = expectStatus(await h.call('GET', '/v1/service_offerings', undefined, developer.token), 200).body.resources;
    assert.deepEqual(offerings.map((o: { name: string; broker: string }) => `${o.name}@${o.broker}`), ['postgresql@built-in', 'redis@built-in', 'test-db@b1']);
    const plans = expectStatus(await h.call('GET', '/v1/service_plans?offering=test-db'), 200).body.resources;
    assert.deepEqual(plans.map((p: { name: string; memory_mb: number; free: boolean }) => [p.name, p.memory_mb, p.free]), [['sync', 0, true], ['async', 0, false], ['refused', 0, true], ['unbindable', 0, true]]);
    // A second broker with the same offering names is refused, naming the clash.
    assert.match(expectStatus(await register({ name: 'b2' }), 422).body.error.message, /test-db \(broker b1\)/);
    assert.match(expectStatus(await register({}), 409).body.error.message, /b1 is registered already/);
  });

  test('a user-provided instance: created at once, its credentials checked, bound with them and its tags, no endpoint, no DATABASE_URL', async () => {
    const bad = expectStatus(await h.call('POST', '/v1/service_instances', { type: 'user-provided', name: 'ups', credentials: { uri: { nested: true } }, space_id: space }), 422).body;
    assert.match(bad.error.message, /credentials\.uri: credential values are strings or numbers/);
    assert.match(expectStatus(await h.call('POST', '/v1/service_instances', { type: 'user-provided', name: 'ups', credentials: { 'bad-name': 'x' }, space_id: space }), 422).body.error.message, /credential names/);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`K${i}`, i]));
    assert.match(expectStatus(await h.call('POST', '/v1/service_instances', { type: 'user-provided', name: 'ups', credentials: many, space_id: space }), 422).body.error.message, /at most 64 credentials/);
    assert.match(expectStatus(await h.call('POST', '/v1/service_instances', { type: 'user-provided', name: 'ups', credentials: { big: 'x'.repeat(17_000) }, space_id: space }), 422).body.error.message, /16 KB/);
    expectStatus(await h.call('POST', '/v1/service_instances', { type: 'user-provided', name: 'ups', space_id: space }), 400);
    const credentials = { uri: 'postgres://u:p@db.example.com:5432/orders', port: 5432 };
    const created = expectStatus(await h.call('POST', '/v1/service_instances', { type: 'user-provided', name: 'ups', credentials, tags: ['external', 'sql'], space_id: space }), 202).body;
    assert.ok(serviceInstanceViewSchema.safeParse(created).success, JSON.stringify(created));
    assert.deepEqual([created.type, created.offering, created.plan, created.broker, created.cell_id], ['user-provided', 'user-provided', '', null, null]);
    assert.deepEqual(created.last_operation.type + ' ' + created.last_operation.state, 'create succeeded');
    assert.deepEqual(created.tags, ['external', 'sql']);
    assert.equal(JSON.stringify(created).includes('db.example.com'), false, 'the view does not show the credentials');
    await settled('osb-app');
    const bound = expectStatus(await h.call('POST', '/v1/apps/osb-app/service_bindings', { service_instance: 'ups' }), 201, 'bind ups').body;
    const [svc] = await servicesOfRelease('osb-app', bound.release_version);
    assert.deepEqual(svc, { label: 'user-provided', name: 'ups', plan: '', tags: ['external', 'sql'], instanceId: created.id, bindingId: bound.binding.id, credentials });
    assert.match(expectStatus(await h.call('DELETE', `/v1/service_instances/ups?space_id=${space}`), 409).body.error.message, /bound to osb-app/);
  });

  test('updating a user-provided instance replaces its credentials and tags, and the next jobs carry them', async () => {
    assert.match(expectStatus(await h.call('PATCH', `/v1/service_instances/ups?space_id=${space}`, { credentials: { 'no good': 1 } }), 422).body.error.message, /credential names/);
    const updated = expectStatus(await h.call('PATCH', `/v1/service_instances/ups?space_id=${space}`, { credentials: { uri: 'postgres://new@moved-host.example/x' }, tags: ['moved'] }), 200).body;
    assert.equal(`${updated.last_operation.type} ${updated.last_operation.state}`, 'update succeeded');
    assert.deepEqual(updated.tags, ['moved']);
    const appId = expectStatus(await h.call('GET', '/v1/apps/osb-app'), 200).body.id;
    const [svc] = await h.app.get(BoundServicesService).of(appId);
    assert.deepEqual([svc.credentials, svc.tags], [{ uri: 'postgres://new@moved-host.example/x' }, ['moved']]);
    const event = await h.app.get(PrismaService).event.findFirst({ where: { type: 'service-instance-updated', targetName: 'ups' } });
    assert.ok(event);
    assert.equal(JSON.stringify(event).includes('moved-host'), false, 'events name the credentials, never their values');
  });

  test('provisioning through the broker asynchronously: PUT with the OSB body, last_operation polled until succeeded', async () => {
    broker.requests.length = 0;
    const accepted = expectStatus(await h.call('POST', '/v1/service_instances', { name: 'bdb', offering: 'test-db', plan: 'async', space_id: space }), 202).body;
    assert.equal(accepted.type, 'brokered');
    assert.equal(accepted.broker, 'b1');
    assert.equal(`${accepted.last_operation.type} ${accepted.last_operation.state}`, 'create in progress');
    const [put] = broker.requestsTo('PUT', `/v2/service_instances/${accepted.id}`);
    assert.deepEqual(put.query, { accepts_incomplete: 'true' });
    assert.equal(put.headers['x-broker-api-version'], '2.17');
    assert.deepEqual(put.body, {
      service_id: TEST_BROKER_SERVICE_ID,
      plan_id: TEST_BROKER_PLAN_IDS.async,
      organization_guid: orgId,
      space_guid: space,
      context: { platform: 'cloudfoundry', organization_guid: orgId, organization_name: 'osb-org', space_guid: space, space_name: 'osb-space', instance_name: 'bdb' },
    });
    const done = await finished('bdb');
    assert.equal(done.last_operation.state, 'succeeded', JSON.stringify(done));
    assert.equal(done.dashboard_url, `${broker.url}/dashboard/${accepted.id}`);
    assert.deepEqual(done.tags, ['test', 'sql']);
    const polls = broker.requestsTo('GET', `/v2/service_instances/${accepted.id}/last_operation`);
    assert.ok(polls.length >= 2, 'in progress once, then succeeded');
    assert.deepEqual(polls[0].query, { service_id: TEST_BROKER_SERVICE_ID, plan_id: TEST_BROKER_PLAN_IDS.async, operation: `provision-${accepted.id}` });
  });

  test('a synchronous plan succeeds at once (and takes no credentials); a plan the broker refuses fails with its description', async () => {
    const sync = expectStatus(await h.call('POST', '/v1/service_instances', { name: 'bsync', offering: 'test-db', plan: 'sync', space_id: space }), 202).body;
    assert.equal(sync.last_operation.state, 'succeeded');
    assert.match(expectStatus(await h.call('PATCH', `/v1/service_instances/bsync?space_id=${space}`, { credentials: { a: 'b' } }), 422).body.error.message, /only user-provided instances take credentials/);
    const refused = expectStatus(await h.call('POST', '/v1/service_instances', { name: 'bref', offering: 'test-db', plan: 'refused', space_id: space }), 202).body;
    assert.equal(refused.last_operation.state, 'failed');
    assert.match(refused.last_operation.description, /broker b1 refused provisioning bref \(HTTP 400: PlanRefused: the refused plan is never provisioned\)/);
    assert.match(expectStatus(await h.call('POST', '/v1/service_instances', { name: 'x', offering: 'test-db', plan: 'huge', space_id: space }), 422).body.error.message, /sync, async, refused/);
    assert.match(expectStatus(await h.call('POST', '/v1/service_instances', { name: 'x', offering: 'nope', plan: 'a', space_id: space }), 422).body.error.message, /postgresql, redis, test-db/);
    expectStatus(await h.call('DELETE', `/v1/service_instances/bref?space_id=${space}`), 202);
    expectStatus(await h.call('GET', `/v1/service_instances/bref?space_id=${space}`), 404);
  });

  test('binding a brokered instance: PUT of the binding, its credentials in the job under the offering\'s label; bad credentials refused', async () => {
    broker.requests.length = 0;
    await settled('osb-app');
    const bound = expectStatus(await h.call('POST', '/v1/apps/osb-app/service_bindings', { service_instance: 'bdb' }), 201, 'bind bdb').body;
    const appId = bound.binding.app_id;
    const bdb = await instance('bdb');
    const [put] = broker.requestsTo('PUT', `/v2/service_instances/${bdb.id}/service_bindings/${bound.binding.id}`);
    assert.deepEqual(put.body, {
      service_id: TEST_BROKER_SERVICE_ID,
      plan_id: TEST_BROKER_PLAN_IDS.async,
      app_guid: appId,
      bind_resource: { app_guid: appId },
      context: { platform: 'cloudfoundry', organization_guid: orgId, organization_name: 'osb-org', space_guid: space, space_name: 'osb-space', instance_name: 'bdb' },
    });
    const services = await servicesOfRelease('osb-app', bound.release_version);
    const svc = services.find((s) => s.name === 'bdb');
    assert.deepEqual(svc, {
      label: 'test-db',
      name: 'bdb',
      plan: 'async',
      tags: ['test', 'sql'],
      instanceId: bdb.id,
      bindingId: bound.binding.id,
      credentials: { uri: `testdb://u-${bound.binding.id}:p-${bound.binding.id}@db.test.invalid/${bdb.id}`, username: `u-${bound.binding.id}`, password: `p-${bound.binding.id}` },
    });
    // A broker answering credentials that are not flat strings and numbers: refused, its binding removed again.
    await settled('osb-app');
    broker.bindCredentials = () => ({ uri: 'x', nested: { a: 1 } });
    const refused = expectStatus(await h.call('POST', '/v1/apps/osb-app/service_bindings', { service_instance: 'bsync' }), 422).body;
    assert.match(refused.error.message, /broker b1 gave the credentials it gave for bsync in a shape this platform cannot use: nested/);
    broker.bindCredentials = undefined;
    // A plan the catalog says is not bindable is refused before the broker is asked.
    expectStatus(await h.call('POST', '/v1/service_instances', { name: 'bnob', offering: 'test-db', plan: 'unbindable', space_id: space }), 202);
    const puts = broker.requestsTo('PUT', '/v2/service_instances/').filter((r) => r.path.includes('service_bindings')).length;
    assert.match(expectStatus(await h.call('POST', '/v1/apps/osb-app/service_bindings', { service_instance: 'bnob' }), 422).body.error.message, /test-db offering \(plan unbindable\) of broker b1 is not bindable/);
    assert.equal(broker.requestsTo('PUT', '/v2/service_instances/').filter((r) => r.path.includes('service_bindings')).length, puts);
    expectStatus(await h.call('DELETE', `/v1/service_instances/bnob?space_id=${space}`), 202);
    assert.equal(broker.requestsTo('DELETE', `/v2/service_instances/${(await instance('bsync')).id}/service_bindings/`).length, 1);
    assert.deepEqual((await instance('bsync')).bound_apps, []);
  });

  test('deleting an app removes its brokered bindings at the broker; an unbind the broker does not confirm keeps the binding (503)', async () => {
    await createApp(h, space, 'osb-app2');
    const bound = expectStatus(await h.call('POST', '/v1/apps/osb-app2/service_bindings', { service_instance: 'bsync' }), 201, 'bind app2').body;
    assert.equal(bound.release_version, null, 'no release yet: nothing rolled');
    assert.ok(broker.bindings.has(bound.binding.id));
    const url = broker.url;
    await broker.stop();
    try {
      assert.match(expectStatus(await h.call('DELETE', '/v1/apps/osb-app2/service_bindings/bsync'), 503).body.error.message, /the broker of bsync did not remove the binding/);
    } finally {
      await broker.start(Number(new URL(url).port));
    }
    assert.equal(expectStatus(await h.call('GET', '/v1/apps/osb-app2/service_bindings'), 200).body.resources.length, 1);
    expectStatus(await h.call('DELETE', '/v1/apps/osb-app2'), 204, 'delete app2');
    await pollUntil('the broker to be told', () => (broker.bindings.has(bound.binding.id) ? undefined : true));
  });

  test('a broker with instances cannot be removed; updating it fetches the catalog again and keeps it when the broker fails', async () => {
    assert.match(expectStatus(await h.call('DELETE', '/v1/service_brokers/b1'), 409).body.error.message, /bdb, bsync/);
    assert.match(expectStatus(await h.call('PATCH', '/v1/service_brokers/b1', { password: 'wrong' }), 502).body.error.message, /HTTP 401/);
    broker.catalog = { services: [] };
    assert.match(expectStatus(await h.call('PATCH', '/v1/service_brokers/b1', { username: broker.username }), 422).body.error.message, /drops the offering or plan of service instances bdb, bsync/);
    broker.catalog = testBrokerCatalog();
    const fetches = broker.requestsTo('GET', '/v2/catalog').length;
    const same = expectStatus(await h.call('PATCH', '/v1/service_brokers/b1', { url: `${broker.url}/` }), 200).body;
    assert.equal(same.url, broker.url);
    assert.equal(broker.requestsTo('GET', '/v2/catalog').length, fetches + 1);
  });

  test('unbinding and deprovisioning tell the broker (with service_id and plan_id); an async deprovision is polled until gone', async () => {
    const bdb = await instance('bdb');
    const binding = expectStatus(await h.call('GET', '/v1/apps/osb-app/service_bindings'), 200).body.resources.find((b: { service_instance_name: string }) => b.service_instance_name === 'bdb');
    await settled('osb-app');
    expectStatus(await h.call('DELETE', '/v1/apps/osb-app/service_bindings/bdb'), 200);
    const [unbind] = broker.requestsTo('DELETE', `/v2/service_instances/${bdb.id}/service_bindings/${binding.id}`);
    assert.deepEqual(unbind.query, { service_id: TEST_BROKER_SERVICE_ID, plan_id: TEST_BROKER_PLAN_IDS.async });
    assert.equal(broker.bindings.has(binding.id), false);
    const deleting = expectStatus(await h.call('DELETE', `/v1/service_instances/bdb?space_id=${space}`), 202).body;
    assert.equal(`${deleting.last_operation.type} ${deleting.last_operation.state}`, 'delete in progress');
    const [del] = broker.requestsTo('DELETE', `/v2/service_instances/${bdb.id}`).filter((r) => !r.path.includes('service_bindings'));
    assert.deepEqual(del.query, { service_id: TEST_BROKER_SERVICE_ID, plan_id: TEST_BROKER_PLAN_IDS.async, accepts_incomplete: 'true' });
    await pollUntil('bdb to be gone', async () => ((await h.call('GET', `/v1/service_instances/bdb?space_id=${space}`)).status === 404 ? true : undefined), { timeoutMs: 60_000 });
    assert.equal(broker.instances.has(bdb.id), false);
    expectStatus(await h.call('DELETE', `/v1/service_instances/bsync?space_id=${space}`), 202);
    expectStatus(await h.call('DELETE', '/v1/service_brokers/b1'), 204);
    expectStatus(await h.call('GET', '/v1/service_brokers/b1'), 404);
    const offerings = expectStatus(await h.call('GET', '/v1/service_offerings'), 200).body.resources;
    assert.deepEqual(offerings.map((o: { name: string }) => o.name), ['postgresql', 'redis']);
  });

  test('an asynchronous provision the broker never finishes fails after the timeout; a broker gone away: polls described, provisions failed', async () => {
    expectStatus(await register({ name: 'b3' }), 201);
    const slow = expectStatus(await h.call('POST', '/v1/service_instances', { name: 'bslow', offering: 'test-db', plan: 'async', space_id: space }), 202).body;
    broker.instances.get(slow.id)!.pendingPolls = 1_000_000;
    const provisioning = h.app.get(ServiceProvisioningService);
    await provisioning.pass(Date.now() + BROKER_OPERATION_TIMEOUT_MS + 1_000);
    const failed = await instance('bslow');
    assert.equal(failed.last_operation.state, 'failed');
    assert.match(failed.last_operation.description, /broker b3 did not finish the create within 30 minutes/);
    // Deleting it asks the broker (sync answer here: it still knows it), then the record goes.
    broker.instances.get(slow.id)!.planId = TEST_BROKER_PLAN_IDS.sync;
    expectStatus(await h.call('DELETE', `/v1/service_instances/bslow?space_id=${space}`), 202);
    expectStatus(await h.call('GET', `/v1/service_instances/bslow?space_id=${space}`), 404);
    const other = expectStatus(await h.call('POST', '/v1/service_instances', { name: 'bgone', offering: 'test-db', plan: 'async', space_id: space }), 202).body;
    await broker.stop();
    try {
      await provisioning.pass(Date.now());
      const view = await instance('bgone');
      assert.equal(view.last_operation.state, 'in progress');
      assert.match(view.last_operation.description, /broker b3 at .* did not answer polling the last operation: .*\(asking again\)/);
      assert.equal(other.id, view.id);
      // A provision the broker does not answer fails; deleting it removes the record though the broker cannot be told.
      const down = expectStatus(await h.call('POST', '/v1/service_instances', { name: 'bdown', offering: 'test-db', plan: 'sync', space_id: space }), 202).body;
      assert.equal(down.last_operation.state, 'failed');
      assert.match(down.last_operation.description, /broker b3 at .* did not answer provisioning bdown/);
      const removed = expectStatus(await h.call('DELETE', `/v1/service_instances/bdown?space_id=${space}`), 202).body;
      assert.match(removed.last_operation.description, /its create had failed; the broker did not deprovision it/);
      expectStatus(await h.call('GET', `/v1/service_instances/bdown?space_id=${space}`), 404);
      // One the broker is still creating cannot be deleted yet.
      assert.match(expectStatus(await h.call('DELETE', `/v1/service_instances/bgone?space_id=${space}`), 409).body.error.message, /being created by its broker/);
    } finally {
      await broker.start().catch(() => undefined);
    }
  });
});
