/**
 * update-service and the service-key commands, run as the real `paas` binary against the fake
 * services API on 127.0.0.1 (testing/fake-services-api.ts): a resize followed to succeeded or
 * failed, the API's refusals as exit 1 with its message, usage errors as exit 2, the keys'
 * credentials as JSON on stdout with where they work on stderr.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceKeyViewSchema } from '@paas/contracts';
import { z } from 'zod';
import { FakeServicesApi, paas } from '../testing/fake-services-api';

let api: FakeServicesApi;
before(async () => {
  api = await new FakeServicesApi().start();
});
after(() => api.stop());
beforeEach(() => {
  api.instances.clear();
  api.keys.clear();
  api.requests.length = 0;
  api.pollsToEnd = 2;
});

const said = (r: { stdout: string; stderr: string }) => `stdout: ${r.stdout}\nstderr: ${r.stderr}`;

test('update-service -p follows the resize until it succeeded', async () => {
  const db = api.seed('db');
  api.pollsToEnd = 3;
  const r = await paas(api, ['update-service', 'db', '-p', 'medium']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^updated service db to plan medium$/m);
  assert.deepEqual(api.requests.find((q) => q.method === 'PATCH'), { method: 'PATCH', path: `/v1/service_instances/${db.id}`, body: { plan: 'medium' } });
  assert.equal(api.requests.filter((q) => q.method === 'GET' && q.path === `/v1/service_instances/${db.id}`).length, 3, 'polled until the update ended');
  assert.equal(api.instances.get(db.id)?.plan, 'medium');
});

test('update-service exits 1 with the reason when the resize failed, saying the old plan stays', async () => {
  api.seed('broken-db');
  const r = await paas(api, ['update-service', 'broken-db', '-p', 'medium']);
  assert.equal(r.code, 1, said(r));
  assert.match(r.stderr, /^error: updating service broken-db: it failed: cell cell-1 could not resize it: resize2fs failed; plan small stays in force; it keeps plan small; see paas service broken-db$/m);
});

test('update-service: the same plan changes nothing, --no-wait returns at once, the API\'s 422 is exit 1', async () => {
  const db = api.seed('db');
  const same = await paas(api, ['update-service', 'db', '-p', 'small']);
  assert.equal(same.code, 0, said(same));
  assert.match(same.stdout, /^service db has plan small already: nothing to change$/m);
  const quick = await paas(api, ['update-service', 'db', '-p', 'medium', '--no-wait']);
  assert.equal(quick.code, 0, said(quick));
  assert.match(quick.stdout, /^updating service db to plan medium: paas service db shows when it is done$/m);
  assert.equal(api.requests.filter((q) => q.method === 'GET' && q.path === `/v1/service_instances/${db.id}`).length, 0);
  api.seed('big', 'postgresql', 's1', { plan: 'medium' });
  const shrink = await paas(api, ['update-service', 'big', '-p', 'small']);
  assert.equal(shrink.code, 1);
  assert.match(shrink.stderr, /^error: a plan change cannot shrink the disk \(10240 MB → 1024 MB\): create a new instance from a backup instead$/m);
  const unknown = await paas(api, ['update-service', 'big', '-p', 'huge']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /choose one of small, medium/);
});

test('update-service --backup-retention sets it (0-100); nothing to change or a bad number is a usage error (exit 2)', async () => {
  const db = api.seed('db');
  const r = await paas(api, ['update-service', 'db', '--backup-retention', '14']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^service db keeps 14 scheduled backups$/m);
  assert.deepEqual(api.requests.find((q) => q.method === 'PATCH')?.body, { backup_retention: 14 });
  assert.equal(api.instances.get(db.id)?.backup_retention, 14);
  for (const args of [['update-service', 'db'], ['update-service', 'db', '--backup-retention', '101'], ['update-service', 'db', '--backup-retention', '-1'], ['update-service', 'db', '--backup-retention', '2.5']]) {
    const bad = await paas(api, args);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${said(bad)}`);
  }
  assert.equal(api.requests.filter((q) => q.method === 'PATCH').length, 1);
});

test('create-service-key prints the credentials as JSON and says where they work; service-key prints them again', async () => {
  const db = api.seed('db');
  const r = await paas(api, ['create-service-key', 'db', 'ops']);
  assert.equal(r.code, 0, said(r));
  const credentials = z.record(z.string(), z.union([z.string(), z.number()])).parse(JSON.parse(r.stdout));
  assert.match(String(credentials.username), /^k_[0-9a-f]{32}$/);
  assert.match(r.stderr, /^created service key ops of db; paas service-key db ops shows it again$/m);
  assert.match(r.stderr, /connect only from the platform's hosts/);
  assert.deepEqual(api.requests.find((q) => q.method === 'POST'), { method: 'POST', path: `/v1/service_instances/${db.id}/keys`, body: { name: 'ops' } });
  const again = await paas(api, ['service-key', 'db', 'ops']);
  assert.equal(again.code, 0, said(again));
  assert.deepEqual(JSON.parse(again.stdout), credentials);
  const dup = await paas(api, ['create-service-key', 'db', 'ops']);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /has a key named ops already/);
});

test('service-keys lists names without credentials; delete-service-key -f deletes, and asks without -f', async () => {
  api.seed('db');
  const empty = await paas(api, ['service-keys', 'db']);
  assert.match(empty.stdout, /^service db has no keys: paas create-service-key db KEY makes one$/m);
  for (const key of ['ops', 'backup-check']) assert.equal((await paas(api, ['create-service-key', 'db', key])).code, 0);
  const listed = await paas(api, ['service-keys', 'db']);
  assert.equal(listed.code, 0, said(listed));
  assert.match(listed.stdout, /^ops\s/m);
  assert.match(listed.stdout, /^backup-check\s/m);
  assert.doesNotMatch(listed.stdout, /Pw0rd/);
  const json = z.array(serviceKeyViewSchema).parse(JSON.parse((await paas(api, ['service-keys', 'db', '--json'])).stdout));
  assert.ok(json.every((k) => k.credentials === undefined));
  const asked = await paas(api, ['delete-service-key', 'db', 'ops']);
  assert.equal(asked.code, 1);
  assert.match(asked.stderr, /no terminal to ask for confirmation; repeat with -f/);
  const deleted = await paas(api, ['delete-service-key', 'db', 'ops', '-f']);
  assert.equal(deleted.code, 0, said(deleted));
  assert.match(deleted.stdout, /^deleted service key ops of db: its login no longer works$/m);
  const gone = await paas(api, ['service-key', 'db', 'ops']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /no service key ops/);
});
