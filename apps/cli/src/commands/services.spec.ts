/**
 * The service commands, run as the real `paas` binary against a fake services API on 127.0.0.1
 * (testing/fake-services-api.ts): the marketplace, creating (followed to succeeded or failed),
 * listing, showing, renaming and deleting instances, their --json against the shared schemas,
 * and the exit codes of usage and API errors.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { serviceInstanceViewSchema, serviceOfferingViewSchema } from '@paas/contracts';
import { Context } from '../context';
import { run } from '../main';
import { FakeServicesApi, OFFERINGS, paas, SPACES, TOKEN } from '../testing/fake-services-api';

let api: FakeServicesApi;
let dir: string;
before(async () => {
  api = await new FakeServicesApi().start();
  dir = await mkdtemp(join(tmpdir(), 'paas-cli-services-'));
});
after(async () => {
  await api.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  api.instances.clear();
  api.bindings.length = 0;
  api.requests.length = 0;
  api.pollsToEnd = 2;
});

const said = (r: { stdout: string; stderr: string }) => `stdout: ${r.stdout}\nstderr: ${r.stderr}`;
const instanceGets = (id: string) => api.requests.filter((r) => r.method === 'GET' && r.path.startsWith(`/v1/service_instances/${id}`)).length;

test('marketplace lists the offerings; -e shows one offering\'s plans with memory, disk and free or paid', async () => {
  const all = await paas(api, ['marketplace']);
  assert.equal(all.code, 0, said(all));
  assert.match(all.stdout, /^offering\s+version\s+plans\s+description\s+broker$/m);
  assert.match(all.stdout, /^postgresql\s+15\s+small, medium\s+PostgreSQL, a relational database.*built-in$/m);
  assert.match(all.stdout, /^redis\s+7\s+small, medium\s+/m);
  const plans = await paas(api, ['marketplace', '-e', 'redis']);
  assert.equal(plans.code, 0, said(plans));
  assert.match(plans.stdout, /^redis 7: Redis, an in-memory key-value store/m);
  assert.match(plans.stdout, /^small\s+256 MB memory, 1 GB disk\s+256M\s+1G\s+free$/m);
  assert.match(plans.stdout, /^medium\s+1 GB memory, 10 GB disk\s+1G\s+10G\s+paid$/m);
  assert.match(plans.stderr, /paas create-service redis small NAME/);
});

test('marketplace --json is the offerings as the API gives them; -e of an unknown offering names the ones there are', async () => {
  const json = await paas(api, ['marketplace', '--json']);
  assert.equal(json.code, 0, said(json));
  assert.deepEqual(z.array(serviceOfferingViewSchema).parse(JSON.parse(json.stdout)), OFFERINGS);
  const one = await paas(api, ['marketplace', '-e', 'postgresql', '--json']);
  assert.deepEqual(serviceOfferingViewSchema.parse(JSON.parse(one.stdout)), OFFERINGS[0]);
  const unknown = await paas(api, ['marketplace', '-e', 'mysql']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /error: no offering mysql in the marketplace: the offerings are postgresql, redis/);
});

test('create-service follows the creation with its last operation until it succeeded', async () => {
  api.pollsToEnd = 3;
  const r = await paas(api, ['create-service', 'postgresql', 'small', 'db']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^created service db \(postgresql small\) in acme\/dev: bind it to an app with paas bind-service APP db$/m);
  const post = api.requests.find((q) => q.method === 'POST');
  assert.deepEqual(post?.body, { name: 'db', offering: 'postgresql', plan: 'small' }, 'no target, no --space: the API picks the space');
  const [db] = api.instances.values();
  assert.equal(db.last_operation.state, 'succeeded');
  assert.equal(instanceGets(db.id), 3, 'polled by id until the create succeeded, then no more');
});

test('create-service exits 1 with the API\'s description when the creation failed', async () => {
  api.pollsToEnd = 2;
  const r = await paas(api, ['create-service', 'postgresql', 'small', 'broken-db']);
  assert.equal(r.code, 1, said(r));
  assert.match(r.stderr, /error: creating service broken-db: it failed: initdb failed: could not create directory "\/data\/pg": No space left on device; delete it with paas delete-service broken-db and create it again/);
  assert.equal(r.stdout, '');
});

test('create-service --no-wait returns after the 202; --space takes a name or an id; the API\'s 422 is printed as it came', async () => {
  const noWait = await paas(api, ['create-service', 'redis', 'small', 'cache', '--no-wait', '--space', 'prod']);
  assert.equal(noWait.code, 0, said(noWait));
  assert.match(noWait.stdout, /^creating service cache \(redis small\) in acme\/prod: paas service cache shows when it is ready$/m);
  const [cache] = api.instances.values();
  assert.equal(instanceGets(cache.id), 0, '--no-wait polls nothing');
  assert.deepEqual(api.requests.find((q) => q.method === 'POST')?.body, { name: 'cache', offering: 'redis', plan: 'small', space_id: 's2' });
  const byId = await paas(api, ['create-service', 'redis', 'small', 'cache2', '--no-wait', '--space', 's2']);
  assert.equal(byId.code, 0, said(byId));
  assert.equal(api.instances.get([...api.instances.keys()][1])?.space_id, 's2');
  const noSpace = await paas(api, ['create-service', 'redis', 'small', 'cache3', '--space', 'staging']);
  assert.equal(noSpace.code, 1);
  assert.match(noSpace.stderr, /error: no space staging: paas spaces lists them/);
  const badPlan = await paas(api, ['create-service', 'postgresql', 'huge', 'db']);
  assert.equal(badPlan.code, 1);
  assert.match(badPlan.stderr, /^error: postgresql has no plan huge: its plans are small, medium$/m);
});

test('wrong command lines exit 2 and name what is missing', async () => {
  const missing = await paas(api, ['create-service', 'postgresql', 'small']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing required argument 'name'/);
  const unknownFlag = await paas(api, ['services', '--bogus']);
  assert.equal(unknownFlag.code, 2);
  assert.match(unknownFlag.stderr, /unknown option '--bogus'/);
  const noName = await paas(api, ['delete-service']);
  assert.equal(noName.code, 2);
  assert.equal(api.requests.length, 0, 'nothing reached the API');
});

test('services lists name, offering, plan, status, bound apps and last operation; --json validates; a target filters by space', async () => {
  api.seed('db', 'postgresql', 's1', { bound_apps: ['shop'] });
  api.seed('cache', 'redis', 's1', { status: 'crashed', status_reason: 'exited with status 1' });
  api.seed('reports', 'postgresql', 's2', { status: null, last_operation: { type: 'create', state: 'in progress', description: 'starting', updated_at: '2026-01-01T00:00:00.000Z' } });
  const r = await paas(api, ['services']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^name\s+offering\s+plan\s+status\s+bound apps\s+last operation\s+space$/m);
  assert.match(r.stdout, /^db\s+postgresql\s+small\s+available\s+shop\s+create succeeded\s+acme\/dev$/m);
  assert.match(r.stdout, /^cache\s+redis\s+small\s+crashed\s+-\s+create succeeded\s+acme\/dev$/m);
  assert.match(r.stdout, /^reports\s+postgresql\s+small\s+-\s+-\s+create in progress\s+acme\/prod$/m);
  const json = await paas(api, ['services', '--json']);
  assert.deepEqual(z.array(serviceInstanceViewSchema).parse(JSON.parse(json.stdout)).map((i) => i.name), ['db', 'cache', 'reports']);

  const config = join(dir, 'targeted.json');
  await writeFile(config, JSON.stringify({ api: api.url, token: TOKEN, target: { org: { id: 'o1', name: 'acme' }, space: { id: SPACES[1].id, name: 'prod' } } }));
  api.requests.length = 0;
  const targeted = await paas(api, ['services'], { PAAS_CONFIG: config });
  assert.equal(targeted.code, 0, said(targeted));
  assert.equal(api.requests[0].path, '/v1/service_instances?space_id=s2');
  assert.match(targeted.stdout, /^reports\s/m);
  assert.doesNotMatch(targeted.stdout, /^db\s/m);
  const all = await paas(api, ['services', '-a'], { PAAS_CONFIG: config });
  assert.match(all.stdout, /^db\s/m);
  api.instances.clear();
  const none = await paas(api, ['services'], { PAAS_CONFIG: config });
  assert.match(none.stdout, /^no services in acme\/prod yet: paas marketplace lists what you can create$/m);
});

test('service NAME shows status and reason, cell, bound apps and last operation; --json validates; an unknown name exits 1', async () => {
  const cache = api.seed('cache', 'redis', 's1', { status: 'unavailable', status_reason: 'cell cell-2 is lost', cell_id: 'cell-2', bound_apps: ['shop', 'worker'] });
  const r = await paas(api, ['service', 'cache']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^status:\s+unavailable \(cell cell-2 is lost\)$/m);
  assert.match(r.stdout, /^cell:\s+cell-2$/m);
  assert.match(r.stdout, /^bound apps:\s+shop, worker$/m);
  assert.match(r.stdout, /^last operation:\s+create succeeded \(.* ago\)$/m);
  assert.match(r.stdout, /^offering:\s+redis$/m);
  assert.match(r.stdout, /^space:\s+acme\/dev$/m);
  const json = await paas(api, ['service', 'cache', '--json']);
  assert.deepEqual(serviceInstanceViewSchema.parse(JSON.parse(json.stdout)), cache);
  const unknown = await paas(api, ['service', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /error: no service nope: paas services lists them \(no service instance nope\)/);
  api.seed('cache', 'redis', 's2');
  const ambiguous = await paas(api, ['service', 'cache']);
  assert.equal(ambiguous.code, 1);
  assert.match(ambiguous.stderr, /error: several spaces have a service cache: acme\/dev, acme\/prod/);
});

test('rename-service renames by id and says when bound apps see the new name', async () => {
  const db = api.seed('db', 'postgresql', 's1', { bound_apps: ['shop'] });
  const r = await paas(api, ['rename-service', 'db', 'orders-db']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^renamed service db to orders-db$/m);
  assert.match(r.stderr, /shop see the new name in VCAP_SERVICES once restarted: paas restart shop/);
  assert.deepEqual(api.requests.find((q) => q.method === 'PATCH'), { method: 'PATCH', path: `/v1/service_instances/${db.id}`, body: { name: 'orders-db' } });
});

test('delete-service refuses without a terminal or -f, waits until the instance is gone (or its delete failed), and prints the 409 naming the bound apps', async () => {
  const db = api.seed('db');
  const refused = await paas(api, ['delete-service', 'db']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /error: not deleting service db: there is no terminal to ask for confirmation; repeat with -f to delete it without asking/);
  assert.ok(!api.requests.some((q) => q.method === 'DELETE'), 'nothing was deleted');

  api.pollsToEnd = 2;
  const deleted = await paas(api, ['delete-service', 'db', '-f']);
  assert.equal(deleted.code, 0, said(deleted));
  assert.match(deleted.stdout, /^deleted service db$/m);
  assert.equal(api.instances.size, 0);
  assert.equal(instanceGets(db.id), 3, 'after the lookup by name, polled by id until the GET is a 404');

  api.seed('cache', 'redis', 's1', { bound_apps: ['shop', 'worker'] });
  const bound = await paas(api, ['delete-service', 'cache', '-f']);
  assert.equal(bound.code, 1);
  assert.match(bound.stderr, /^error: service cache is bound to shop, worker: unbind it first \(paas unbind-service shop cache\)$/m);

  api.seed('broken-old');
  const failed = await paas(api, ['delete-service', 'broken-old', '-f']);
  assert.equal(failed.code, 1, said(failed));
  assert.match(failed.stderr, /^error: deleting service broken-old: it failed: cell-1 could not remove its volume: device busy; see paas service broken-old$/m);

  api.seed('old');
  const noWait = await paas(api, ['delete-service', 'old', '-f', '--no-wait']);
  assert.equal(noWait.code, 0, said(noWait));
  assert.match(noWait.stdout, /^deleting service old: paas services shows when it is gone$/m);
  assert.equal([...api.instances.values()].find((i) => i.name === 'old')?.last_operation.type, 'delete');
});

test('delete-service on a terminal asks first: only yes deletes', async () => {
  process.env.PAAS_API = api.url;
  process.env.PAAS_TOKEN = TOKEN;
  process.env.PAAS_CONFIG = '/nonexistent/paas.json';
  const terminal = (answer: string) => {
    const tty = <T extends object>(s: T) => Object.assign(s, { isTTY: true, columns: 100 });
    const io = { stdout: new PassThrough(), stderr: tty(new PassThrough()), stdin: tty(new PassThrough()) };
    let asked = '';
    io.stderr.on('data', (d: Buffer) => (asked += d.toString()));
    io.stdout.resume();
    io.stdin.write(`${answer}\n`);
    return { ctx: new Context(io as unknown as Context['io'], { NO_COLOR: '1' }), asked: () => asked };
  };
  api.seed('db');
  const no = terminal('n');
  assert.equal(await run(['node', 'paas', 'delete-service', 'db'], no.ctx), 1);
  assert.match(no.asked(), /Delete service db \(postgresql small\) and all its data\? \[y\/N\] /);
  assert.match(no.asked(), /error: service db was not deleted/);
  assert.equal(api.instances.size, 1);
  const yes = terminal('y');
  assert.equal(await run(['node', 'paas', 'delete-service', 'db'], yes.ctx), 0, yes.asked());
  assert.equal(api.instances.size, 0);
});
