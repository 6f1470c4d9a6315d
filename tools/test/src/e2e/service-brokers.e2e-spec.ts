/**
 * Issue 15, user-provided services and an external broker, as a Cloud Foundry user meets them:
 * `paas cups` with credentials from a file, `create-service-broker` (the test Open Service Broker,
 * a real HTTP server on 127.0.0.1, its password on stdin), its offering in `paas marketplace`,
 * `create-service` of its asynchronous plan followed to succeeded, and an app pushed and bound to
 * both that sees both entries in VCAP_SERVICES through the router; then unbind and delete tell the
 * broker, and the broker is removed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, TEST_BROKER_PLAN_IDS, TestOsbBroker, writeFiles, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';
import { adminCli, api, viaRouter } from './test-platform';

/** Answers /env with what it was given: VCAP_SERVICES and DATABASE_URL. */
const ENV_SERVER = `
const http = require('http');
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ vcap: JSON.parse(process.env.VCAP_SERVICES || '{}'), databaseUrl: process.env.DATABASE_URL || null }));
}).listen(Number(process.env.PORT), '0.0.0.0');
`;

describe('user-provided services and a service broker, bound to a pushed app', () => {
  let platform: TestPlatform;
  let work: string;
  let space: string;
  const broker = new TestOsbBroker();
  const cli = () => adminCli(platform, work);

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-brokers-'));
    await broker.start();
    platform = await startIsolatedPlatform(1);
    const org = (await api(platform, 'POST', '/v1/orgs', { name: 'acme' })).json.id;
    space = (await api(platform, 'POST', '/v1/spaces', { name: 'shop', org_id: org })).json.id;
    await cli().ok(['target', '-o', 'acme', '-s', 'shop']);
  });

  after(async () => {
    try {
      const leftovers = await stopIsolatedPlatform(platform);
      assert.deepEqual(leftovers, [], 'the platform leaves no bridge, veth, netns or iptables rule behind');
    } finally {
      await broker.stop();
      await rm(work, { recursive: true, force: true });
    }
  });

  test('cups makes a user-provided instance from a credentials file', async () => {
    const file = join(work, 'orders-db.json');
    await writeFile(file, JSON.stringify({ uri: 'postgres://orders:s3cret@db.example.test:5432/orders', port: 5432 }), { mode: 0o600 });
    await cli().ok(['cups', 'orders-db', '-p', `@${file}`, '-t', 'external,sql']);
    const view = (await api(platform, 'GET', `/v1/service_instances/orders-db?space_id=${space}`)).json;
    assert.equal(view.type, 'user-provided');
    assert.equal(`${view.last_operation.type} ${view.last_operation.state}`, 'create succeeded');
  });

  test('a broker registered with its password on stdin joins the marketplace; its async plan is provisioned', async () => {
    const registered = await cli().paas(['create-service-broker', 'testbroker', broker.username, broker.url], `${broker.password}\n`);
    assert.equal(registered.code, 0, registered.stderr);
    assert.match(await cli().ok(['service-brokers']), new RegExp(`testbroker\\s+${broker.url.replace(/\./g, '\\.')}\\s+${broker.username}\\s+test-db`));
    assert.match(await cli().ok(['marketplace']), /test-db\s+sync, async, refused, unbindable\s+a database of the test broker\s+testbroker/);
    await cli().ok(['create-service', 'test-db', 'async', 'ext-db']);
    const view = (await api(platform, 'GET', `/v1/service_instances/ext-db?space_id=${space}`)).json;
    assert.equal(view.type, 'brokered');
    assert.equal(view.broker, 'testbroker');
    assert.equal(view.last_operation.state, 'succeeded', JSON.stringify(view));
    assert.ok(broker.requestsTo('GET', `/v2/service_instances/${view.id}/last_operation`).length >= 2, 'polled through in progress to succeeded');
  });

  test('a pushed app bound to both sees both in VCAP_SERVICES through the router', async () => {
    const created = await api(platform, 'POST', '/v1/apps', { name: 'shop-app', space_id: space });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const dir = join(work, 'shop-app');
    await writeFiles(dir, { Procfile: 'web: node server.js\n', 'server.js': ENV_SERVER });
    await commitDir(dir);
    const pushed = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/shop-app.git`, 'main'], dir);
    assert.equal(pushed.code, 0, pushed.output);
    await cli().ok(['bind-service', 'shop-app', 'orders-db']);
    await cli().ok(['bind-service', 'shop-app', 'ext-db']);
    const host = `shop-app.${platform.appsDomain}`;
    const env = await pollUntil('shop-app to see both services', async () => {
      const r = await viaRouter(platform, host, '/env').catch(() => undefined);
      if (r?.status !== 200) return undefined;
      const body = JSON.parse(r.text);
      return body.vcap['user-provided'] && body.vcap['test-db'] ? body : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    const [ups] = env.vcap['user-provided'];
    assert.equal(ups.name, 'orders-db');
    assert.deepEqual(ups.tags, ['external', 'sql']);
    assert.deepEqual(ups.credentials, { uri: 'postgres://orders:s3cret@db.example.test:5432/orders', port: 5432 });
    assert.equal(env.databaseUrl, null, 'a user-provided service sets no DATABASE_URL (as on Cloud Foundry)');
    const [ext] = env.vcap['test-db'];
    assert.equal(ext.name, 'ext-db');
    assert.equal(ext.plan, 'async');
    assert.deepEqual(ext.tags, ['test', 'sql']);
    assert.equal(ext.credentials.username, `u-${ext.binding_guid}`, 'the broker\'s credentials for this binding');
    const [bind] = broker.requestsTo('PUT', `/v2/service_instances/${ext.instance_guid}/service_bindings/${ext.binding_guid}`);
    assert.equal(bind.headers['x-broker-api-version'], '2.17');
    assert.equal((bind.body as { plan_id: string }).plan_id, TEST_BROKER_PLAN_IDS.async);
  });

  test('unbinding and deleting tell the broker; the broker is removed once its instances are gone', async () => {
    const id = (await api(platform, 'GET', `/v1/service_instances/ext-db?space_id=${space}`)).json.id;
    await pollUntil('the bind deployment to end', async () => {
      const r = await cli().paas(['unbind-service', 'shop-app', 'ext-db']);
      return r.code === 0 ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 1_000 });
    assert.equal(broker.bindings.size, 0);
    assert.equal((await cli().paas(['delete-service-broker', 'testbroker', '-f'])).code, 1, 'refused while ext-db exists');
    await cli().ok(['delete-service', 'ext-db', '-f']);
    assert.equal(broker.instances.has(id), false);
    await cli().ok(['delete-service-broker', 'testbroker', '-f']);
    assert.doesNotMatch(await cli().ok(['marketplace']), /test-db/);
  });
});
