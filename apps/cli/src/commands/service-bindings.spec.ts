/**
 * bind-service and unbind-service, run as the real `paas` binary against a fake services API on
 * 127.0.0.1 (testing/fake-services-api.ts): each follows the release it rolls out as env changes
 * do, says how the app sees the service, and exits 1 with the API's message or the deployment's
 * reason when something failed.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceBindingView } from '@paas/contracts';
import { APP, FakeServicesApi, paas } from '../testing/fake-services-api';
import { bindingHint } from './service-bindings';

let api: FakeServicesApi;
before(async () => {
  api = await new FakeServicesApi().start();
});
after(() => api.stop());
beforeEach(() => {
  api.instances.clear();
  api.bindings.length = 0;
  api.requests.length = 0;
});

const said = (r: { stdout: string; stderr: string }) => `stdout: ${r.stdout}\nstderr: ${r.stderr}`;

test('bind-service follows the new release until it is deployed and says the app sees DATABASE_URL', async () => {
  const db = api.seed('db');
  const r = await paas(api, ['bind-service', 'shop', 'db']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^binding db to shop: v\d+ is deployed$/m);
  assert.match(r.stderr, /^shop sees db in VCAP_SERVICES \(under "postgresql"\) and as DATABASE_URL$/m);
  assert.deepEqual(api.requests.find((q) => q.method === 'POST'), { method: 'POST', path: `/v1/apps/${APP.id}/service_bindings`, body: { service_instance: 'db' } });
  assert.equal(api.requests.filter((q) => q.path.startsWith(`/v1/apps/${APP.name}/deployments/`)).length, 2, 'polled until DEPLOYED');
  assert.deepEqual(api.instances.get(db.id)?.bound_apps, ['shop']);
});

test('a second binding of one offering leaves the URL variable with the first; redis gets REDIS_URL', async () => {
  api.seed('db');
  api.seed('reports');
  api.seed('cache', 'redis');
  assert.equal((await paas(api, ['bind-service', 'shop', 'db', '--no-wait'])).code, 0);
  const second = await paas(api, ['bind-service', 'shop', 'reports']);
  assert.equal(second.code, 0, said(second));
  assert.match(second.stderr, /^shop sees reports in VCAP_SERVICES \(under "postgresql"\); DATABASE_URL stays with db, its first postgresql binding$/m);
  const redis = await paas(api, ['bind-service', 'shop', 'cache', '--no-wait']);
  assert.equal(redis.code, 0, said(redis));
  assert.match(redis.stdout, /^binding cache to shop: deploying v\d+ \(deployment d\d+\); follow it with paas deployments shop$/m);
  assert.match(redis.stderr, /^once v\d+ runs, shop sees cache in VCAP_SERVICES \(under "redis"\) and as REDIS_URL$/m);
});

test('bind-service exits 1 with the deployment\'s reason when the new release fails, and with the API\'s 409 when already bound', async () => {
  api.seed('crashy-db');
  const failed = await paas(api, ['bind-service', 'shop', 'crashy-db']);
  assert.equal(failed.code, 1, said(failed));
  assert.match(failed.stderr, /^error: binding crashy-db to shop: the deployment failed: instance 0 crashed: exited with status 1$/m);
  const again = await paas(api, ['bind-service', 'shop', 'crashy-db']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error: shop is already bound to crashy-db$/m);
  const unknown = await paas(api, ['bind-service', 'nope', 'crashy-db']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error: no app nope: paas apps lists your apps/m);
});

test('unbind-service follows the release without the binding and says its credentials were dropped', async () => {
  const db = api.seed('db');
  assert.equal((await paas(api, ['bind-service', 'shop', 'db', '--no-wait'])).code, 0);
  const r = await paas(api, ['unbind-service', 'shop', 'db']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^unbinding db from shop: v\d+ is deployed$/m);
  assert.match(r.stderr, /shop's credentials for db were dropped/);
  assert.ok(api.requests.some((q) => q.method === 'DELETE' && q.path === `/v1/apps/${APP.id}/service_bindings/db`));
  assert.deepEqual(api.instances.get(db.id)?.bound_apps, []);
  const notBound = await paas(api, ['unbind-service', 'shop', 'db']);
  assert.equal(notBound.code, 1);
  assert.match(notBound.stderr, /^error: shop is not bound to db$/m);
});

test('bind-service and unbind-service without both names are usage errors (exit 2)', async () => {
  for (const command of ['bind-service', 'unbind-service']) {
    const r = await paas(api, [command, 'shop']);
    assert.equal(r.code, 2, `${command}: ${said(r)}`);
    assert.match(r.stderr, /missing required argument 'service'/);
  }
  assert.equal(api.requests.length, 0);
});

test('the hint names the URL variable only for the first binding of its offering, and none for an offering without one', () => {
  const binding = (id: string, name: string, offering: string, at: string): ServiceBindingView => ({
    id, app_id: 'a', app_name: 'shop', service_instance_id: `i-${id}`, service_instance_name: name, offering, created_at: at,
  });
  const first = binding('1', 'db', 'postgresql', '2026-01-01T00:00:01Z');
  const second = binding('2', 'reports', 'postgresql', '2026-01-01T00:00:02Z');
  assert.equal(bindingHint('shop', first, [second, first]), 'shop sees db in VCAP_SERVICES (under "postgresql") and as DATABASE_URL');
  assert.match(bindingHint('shop', second, [first, second]), /DATABASE_URL stays with db, its first postgresql binding$/);
  assert.equal(bindingHint('shop', binding('3', 'mail', 'smtp', '2026-01-01T00:00:03Z'), []), 'shop sees mail in VCAP_SERVICES (under "smtp")');
});
