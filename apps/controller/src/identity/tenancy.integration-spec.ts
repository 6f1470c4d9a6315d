/**
 * Tenancy, users and tokens, domains, events, cells and the API description, against the real
 * controller on a private Postgres and Redis (startControllerHarness).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisKeys } from '@paas/contracts';
import { announceCell, reportInstance } from '@paas/redis';
import { startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { createApp, createOrg, createSpace, createUser, defaultDomainId, expectStatus, grant, type TestUser } from '../testing/tenancy-fixtures';

let h: ControllerHarness;

before(async () => {
  h = await startControllerHarness();
});

after(async () => {
  await h?.stop();
});

describe('authentication', () => {
  it('401 without a token or with an unknown one, with the error shape', async () => {
    for (const token of [null, 'paas_not-a-token']) {
      const res = await h.call('GET', '/v1/orgs', undefined, token);
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'unauthenticated');
      assert.match(res.body.error.message, /token/);
    }
  });
});

describe('orgs', () => {
  it('create, get, rename, list and delete', async () => {
    const created = expectStatus(await h.call('POST', '/v1/orgs', { name: 'acme' }), 201).body;
    assert.equal(created.name, 'acme');
    assert.equal(expectStatus(await h.call('GET', `/v1/orgs/${created.id}`), 200).body.name, 'acme');
    assert.equal(expectStatus(await h.call('PATCH', `/v1/orgs/${created.id}`, { name: 'acme-corp' }), 200).body.name, 'acme-corp');
    const list = expectStatus(await h.call('GET', '/v1/orgs?names=acme-corp'), 200).body;
    assert.deepEqual(list.resources.map((o: { id: string }) => o.id), [created.id]);
    expectStatus(await h.call('DELETE', `/v1/orgs/${created.id}`), 204);
    expectStatus(await h.call('GET', `/v1/orgs/${created.id}`), 404);
  });

  it('400 names the field and the rule; 409 when the name is taken', async () => {
    const bad = await h.call('POST', '/v1/orgs', { name: 'no spaces allowed' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation-failed');
    assert.equal(bad.body.error.details[0].field, 'name');
    assert.match(bad.body.error.message, /^name: /);
    const missing = await h.call('POST', '/v1/orgs', {});
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.details[0].field, 'name');
    const extra = await h.call('POST', '/v1/orgs', { name: 'x', color: 'red' });
    assert.equal(extra.status, 400);
    await createOrg(h, 'taken-org');
    const taken = await h.call('POST', '/v1/orgs', { name: 'taken-org' });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error.code, 'name-taken');
  });

  it('paginates with links and a stable order', async () => {
    for (const name of ['page-e', 'page-c', 'page-a', 'page-d', 'page-b']) await createOrg(h, name);
    const names: string[] = [];
    let href: string | null = '/v1/orgs?names=page-a,page-b,page-c,page-d,page-e&per_page=2';
    let pages = 0;
    while (href) {
      const res: { pagination: { total_results: number; total_pages: number; next: { href: string } | null }; resources: Array<{ name: string }> } =
        expectStatus(await h.call('GET', href), 200).body;
      assert.equal(res.pagination.total_results, 5);
      assert.equal(res.pagination.total_pages, 3);
      names.push(...res.resources.map((o) => o.name));
      href = res.pagination.next?.href ?? null;
      if (href) assert.match(href, /names=page-a%2Cpage-b/);
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(names, ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']);
    const last = expectStatus(await h.call('GET', '/v1/orgs?names=page-a,page-b,page-c,page-d,page-e&per_page=2&page=3'), 200).body;
    assert.equal(last.pagination.next, null);
    assert.match(last.pagination.previous.href, /page=2/);
    const badPage = await h.call('GET', '/v1/orgs?per_page=1000');
    assert.equal(badPage.status, 400);
    assert.equal(badPage.body.error.details[0].field, 'per_page');
  });

  it('422 while the org has spaces', async () => {
    const org = await createOrg(h, 'busy-org');
    const space = await createSpace(h, org, 'dev');
    const res = await h.call('DELETE', `/v1/orgs/${org}`);
    assert.equal(res.status, 422);
    assert.match(res.body.error.message, /delete them first/);
    expectStatus(await h.call('DELETE', `/v1/spaces/${space}`), 204);
    expectStatus(await h.call('DELETE', `/v1/orgs/${org}`), 204);
  });
});

describe('spaces, roles and their boundaries', () => {
  let org: string;
  let spaceA: string;
  let spaceB: string;
  let alice: TestUser; // admin of A
  let dave: TestUser; // developer of A
  let vera: TestUser; // viewer of A
  let bob: TestUser; // developer of B

  before(async () => {
    org = await createOrg(h, 'tenancy');
    spaceA = await createSpace(h, org, 'a');
    spaceB = await createSpace(h, org, 'b');
    alice = await createUser(h, 'alice');
    dave = await createUser(h, 'dave');
    vera = await createUser(h, 'vera');
    bob = await createUser(h, 'bob');
    await grant(h, spaceA, alice, 'admin');
    await grant(h, spaceA, dave, 'developer');
    await grant(h, spaceA, vera, 'viewer');
    await grant(h, spaceB, bob, 'developer');
  });

  it('a user lists and gets only the spaces (and orgs) it holds a role in', async () => {
    const mine = expectStatus(await h.call('GET', `/v1/spaces?org_ids=${org}`, undefined, dave.token), 200).body;
    assert.deepEqual(mine.resources.map((s: { id: string }) => s.id), [spaceA]);
    expectStatus(await h.call('GET', `/v1/spaces/${spaceA}`, undefined, vera.token), 200);
    const hidden = await h.call('GET', `/v1/spaces/${spaceB}`, undefined, dave.token);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body.error.code, 'not-found');
    const orgs = expectStatus(await h.call('GET', '/v1/orgs', undefined, dave.token), 200).body;
    assert.deepEqual(orgs.resources.map((o: { id: string }) => o.id), [org]);
    const all = expectStatus(await h.call('GET', `/v1/spaces?org_ids=${org}`), 200).body;
    assert.equal(all.resources.length, 2);
    const badFilter = await h.call('GET', '/v1/spaces?org_ids=nope');
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.body.error.details[0].field, 'org_ids');
  });

  it('space admins rename and manage roles; developers and viewers get 403; other spaces 404', async () => {
    expectStatus(await h.call('PATCH', `/v1/spaces/${spaceA}`, { name: 'a2' }, alice.token), 200);
    const dev = await h.call('PATCH', `/v1/spaces/${spaceA}`, { name: 'a3' }, dave.token);
    assert.equal(dev.status, 403);
    assert.equal(dev.body.error.code, 'forbidden');
    assert.match(dev.body.error.message, /admin role/);
    expectStatus(await h.call('PATCH', `/v1/spaces/${spaceB}`, { name: 'b2' }, alice.token), 404);
    expectStatus(await h.call('PUT', `/v1/spaces/${spaceA}/roles`, { user_id: bob.id, role: 'viewer' }, vera.token), 403);
    expectStatus(await h.call('PUT', `/v1/spaces/${spaceB}/roles`, { user_id: dave.id, role: 'viewer' }, alice.token), 404);
    // by name, then change and remove
    const set = expectStatus(await h.call('PUT', `/v1/spaces/${spaceA}/roles`, { user_name: 'bob', role: 'viewer' }, alice.token), 200).body;
    assert.deepEqual([set.user_id, set.role, set.space_id], [bob.id, 'viewer', spaceA]);
    expectStatus(await h.call('PUT', `/v1/spaces/${spaceA}/roles`, { user_id: bob.id, role: 'developer' }, alice.token), 200);
    const roles = expectStatus(await h.call('GET', `/v1/spaces/${spaceA}/roles`, undefined, vera.token), 200).body;
    assert.deepEqual(
      roles.resources.map((r: { user_name: string; role: string }) => `${r.user_name}:${r.role}`),
      ['alice:admin', 'bob:developer', 'dave:developer', 'vera:viewer'],
    );
    expectStatus(await h.call('DELETE', `/v1/spaces/${spaceA}/roles/${bob.id}`, undefined, alice.token), 204);
    expectStatus(await h.call('DELETE', `/v1/spaces/${spaceA}/roles/${bob.id}`, undefined, alice.token), 404);
    expectStatus(await h.call('GET', `/v1/spaces/${spaceA}`, undefined, bob.token), 404);
  });

  it('400 on a bad role or on both/neither user_id and user_name; 404 for an unknown user', async () => {
    const badRole = await h.call('PUT', `/v1/spaces/${spaceA}/roles`, { user_id: bob.id, role: 'owner' });
    assert.equal(badRole.status, 400);
    assert.equal(badRole.body.error.details[0].field, 'role');
    const neither = await h.call('PUT', `/v1/spaces/${spaceA}/roles`, { role: 'viewer' });
    assert.equal(neither.status, 400);
    assert.match(neither.body.error.message, /exactly one of user_id and user_name/);
    expectStatus(await h.call('PUT', `/v1/spaces/${spaceA}/roles`, { user_name: 'nobody', role: 'viewer' }), 404);
  });

  it('only platform admins create and delete spaces; 409 for a taken name; 422 while apps exist', async () => {
    const res = await h.call('POST', '/v1/spaces', { name: 'c', org_id: org }, alice.token);
    assert.equal(res.status, 403);
    assert.match(res.body.error.message, /platform admin/);
    expectStatus(await h.call('DELETE', `/v1/spaces/${spaceA}`, undefined, alice.token), 403);
    expectStatus(await h.call('POST', '/v1/spaces', { name: 'b', org_id: org }), 409);
    const space = await createSpace(h, org, 'with-app');
    await createApp(h, space, 'tenancy-app');
    const busy = await h.call('DELETE', `/v1/spaces/${space}`);
    assert.equal(busy.status, 422);
    assert.match(busy.body.error.message, /GET \/v1\/apps\?space_ids=/);
    expectStatus(await h.call('DELETE', '/v1/apps/tenancy-app'), 204);
    expectStatus(await h.call('DELETE', `/v1/spaces/${space}`), 204);
    expectStatus(await h.call('POST', '/v1/spaces', { name: 'x', org_id: '00000000-0000-4000-8000-000000000000' }), 404);
  });

  it('users: me, visibility, tokens for oneself only, revocation', async () => {
    const me = expectStatus(await h.call('GET', '/v1/users/me', undefined, dave.token), 200).body;
    assert.equal(me.name, 'dave');
    assert.equal(me.is_admin, false);
    assert.deepEqual(me.roles.map((r: { space_id: string; role: string }) => [r.space_id, r.role]), [[spaceA, 'developer']]);
    const seen = expectStatus(await h.call('GET', '/v1/users', undefined, dave.token), 200).body;
    assert.deepEqual(seen.resources.map((u: { name: string }) => u.name), ['alice', 'dave', 'vera']);
    expectStatus(await h.call('GET', `/v1/users/${bob.id}`, undefined, dave.token), 404);
    expectStatus(await h.call('GET', `/v1/users/${alice.id}`, undefined, dave.token), 200);
    expectStatus(await h.call('POST', '/v1/users', { name: 'mallory' }, dave.token), 403);
    expectStatus(await h.call('POST', '/v1/users', { name: 'dave' }), 409);
    const badName = await h.call('POST', '/v1/users', { name: '-x' });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.error.details[0].field, 'name');
    // tokens: own yes, another visible user's 403, an invisible user's 404
    const own = expectStatus(await h.call('POST', '/v1/users/me/tokens', { name: 'laptop' }, dave.token), 201).body;
    assert.match(own.token, /^paas_/);
    expectStatus(await h.call('POST', `/v1/users/${alice.id}/tokens`, { name: 'x' }, dave.token), 403);
    expectStatus(await h.call('POST', `/v1/users/${bob.id}/tokens`, { name: 'x' }, dave.token), 404);
    expectStatus(await h.call('POST', `/v1/users/${dave.id}/tokens`, { name: '' }, dave.token), 400);
    const tokens = expectStatus(await h.call('GET', `/v1/users/${dave.id}/tokens`, undefined, dave.token), 200).body;
    assert.deepEqual(tokens.resources.map((t: { name: string }) => t.name), ['test', 'laptop']);
    assert.ok(tokens.resources.every((t: Record<string, unknown>) => !('token' in t) && !('token_hash' in t)));
    expectStatus(await h.call('GET', '/v1/users/me', undefined, own.token), 200);
    expectStatus(await h.call('DELETE', `/v1/users/${dave.id}/tokens/${own.id}`, undefined, dave.token), 204);
    expectStatus(await h.call('GET', '/v1/users/me', undefined, own.token), 401);
    // delete a user: its tokens stop working
    const temp = await createUser(h, 'temp');
    expectStatus(await h.call('DELETE', `/v1/users/${temp.id}`, undefined, dave.token), 404);
    expectStatus(await h.call('DELETE', `/v1/users/${temp.id}`), 204);
    expectStatus(await h.call('GET', '/v1/users/me', undefined, temp.token), 401);
    const self = expectStatus(await h.call('GET', '/v1/users/me'), 200).body;
    expectStatus(await h.call('DELETE', `/v1/users/${self.id}`), 422);
  });

  it('domains: shared default, private domains visible to their org only, deletion rules', async () => {
    const defaultId = await defaultDomainId(h);
    const other = await createOrg(h, 'other-org');
    const priv = expectStatus(await h.call('POST', '/v1/domains', { name: 'tenancy.example.com', org_id: org }), 201).body;
    assert.deepEqual([priv.shared, priv.default, priv.org_id], [false, false, org]);
    const foreign = expectStatus(await h.call('POST', '/v1/domains', { name: 'other.example.org', org_id: other }), 201).body;
    const daveSees = expectStatus(await h.call('GET', '/v1/domains', undefined, dave.token), 200).body;
    assert.deepEqual(daveSees.resources.map((d: { name: string }) => d.name).sort(), ['apps.localhost', 'tenancy.example.com']);
    expectStatus(await h.call('GET', `/v1/domains/${foreign.id}`, undefined, dave.token), 404);
    expectStatus(await h.call('GET', `/v1/domains/${priv.id}`, undefined, dave.token), 200);
    // alice, admin of a space of the org, manages it: her claim is pending until verified; a developer may not claim.
    const claimed = expectStatus(await h.call('POST', '/v1/domains', { name: 'x.example.com', org_id: org }, alice.token), 201).body;
    assert.equal(claimed.verification.state, 'pending');
    expectStatus(await h.call('POST', '/v1/domains', { name: 'y.example.com', org_id: org }, dave.token), 403);
    expectStatus(await h.call('POST', '/v1/domains', { name: 'tenancy.example.com' }), 409);
    const nested = await h.call('POST', '/v1/domains', { name: 'sub.tenancy.example.com' });
    assert.equal(nested.status, 422);
    assert.match(nested.body.error.message, /overlaps/);
    const badName = await h.call('POST', '/v1/domains', { name: 'Not A Domain' });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.error.details[0].field, 'name');
    const defaultDelete = await h.call('DELETE', `/v1/domains/${defaultId}`);
    assert.equal(defaultDelete.status, 422);
    assert.match(defaultDelete.body.error.message, /default apps domain/);
    // a domain with routes cannot be deleted
    expectStatus(await h.call('POST', '/v1/routes', { host: '', domain_id: priv.id, space_id: spaceA }, dave.token), 201);
    const withRoutes = await h.call('DELETE', `/v1/domains/${priv.id}`);
    assert.equal(withRoutes.status, 422);
    assert.match(withRoutes.body.error.message, /route/);
    expectStatus(await h.call('DELETE', `/v1/domains/${foreign.id}`, undefined, dave.token), 404);
    expectStatus(await h.call('DELETE', `/v1/domains/${priv.id}`, undefined, dave.token), 403);
    expectStatus(await h.call('DELETE', `/v1/domains/${foreign.id}`), 204);
    expectStatus(await h.call('GET', `/v1/domains/${foreign.id}`), 404);
  });

  it('events: recorded for changes, newest first, filterable, scoped to visible spaces', async () => {
    const all = expectStatus(await h.call('GET', '/v1/events?types=org-created,user-created&per_page=200'), 200).body;
    assert.ok(all.resources.some((e: { type: string; target: { name: string } }) => e.type === 'org-created' && e.target.name === 'tenancy'));
    assert.ok(all.resources.some((e: { type: string; target: { name: string } }) => e.type === 'user-created' && e.target.name === 'dave'));
    const times = all.resources.map((e: { created_at: string }) => e.created_at);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    const roleEvents = expectStatus(await h.call('GET', `/v1/events?types=role-set,role-removed&target_id=${bob.id}`), 200).body;
    assert.deepEqual(roleEvents.resources.map((e: { type: string }) => e.type), ['role-removed', 'role-set', 'role-set', 'role-set']);
    assert.equal(roleEvents.resources[0].type, 'role-removed');
    assert.equal(roleEvents.resources[0].actor.name, 'alice');
    // dave (developer of A) sees only events of A: no org or user events, nothing of B
    const daves = expectStatus(await h.call('GET', '/v1/events?per_page=200', undefined, dave.token), 200).body;
    assert.ok(daves.resources.length > 0);
    assert.ok(daves.resources.every((e: { space_id: string | null }) => e.space_id === spaceA));
    const daveB = expectStatus(await h.call('GET', `/v1/events?space_id=${spaceB}`, undefined, dave.token), 200).body;
    assert.equal(daveB.resources.length, 0);
    const bobsSpace = expectStatus(await h.call('GET', `/v1/events?space_id=${spaceB}`), 200).body;
    assert.ok(bobsSpace.resources.some((e: { type: string }) => e.type === 'role-set'));
    const one = all.resources[0];
    expectStatus(await h.call('GET', `/v1/events/${one.id}`), 200);
    expectStatus(await h.call('GET', `/v1/events/${one.id}`, undefined, dave.token), 404);
    const paged = expectStatus(await h.call('GET', '/v1/events?per_page=3&page=2'), 200).body;
    assert.equal(paged.resources.length, 3);
    const first = expectStatus(await h.call('GET', '/v1/events?per_page=6'), 200).body;
    assert.deepEqual(paged.resources.map((e: { id: string }) => e.id), first.resources.slice(3).map((e: { id: string }) => e.id));
  });

  it('cells: any user reads live cells with their instances; apps listed only when visible', async () => {
    const appA = await createApp(h, spaceA, 'cell-app-a');
    const appB = await createApp(h, spaceB, 'cell-app-b');
    const redis = new Redis(h.redisUrl, { lazyConnect: false });
    try {
      const keys = redisKeys(h.redisPrefix);
      const startedAt = new Date().toISOString();
      await announceCell(redis, keys, { id: 'cell-1', address: '127.0.0.1', zone: 'z1', capacity: { memoryMb: 4096, maxContainers: 50 }, instances: 3, startedAt });
      await announceCell(redis, keys, { id: 'cell-2', address: '127.0.0.2', zone: 'z2', capacity: { memoryMb: 2048, maxContainers: 20 }, instances: 0, startedAt });
      const instance = (appId: string, appName: string, index: number, state: 'RUNNING' | 'CRASHED' | 'STOPPING') => ({
        instanceId: `${appName}-${index}`,
        appId,
        appName,
        releaseId: 'r1',
        processType: 'web',
        index,
        cellId: 'cell-1',
        state,
        since: startedAt,
        crashCount: 0,
      });
      await reportInstance(redis, keys, instance(appA, 'cell-app-a', 0, 'RUNNING'));
      await reportInstance(redis, keys, instance(appA, 'cell-app-a', 1, 'CRASHED'));
      await reportInstance(redis, keys, instance(appB, 'cell-app-b', 0, 'RUNNING'));
      await reportInstance(redis, keys, instance(appB, 'cell-app-b', 1, 'STOPPING'));
      const cells = expectStatus(await h.call('GET', '/v1/cells', undefined, vera.token), 200).body;
      assert.deepEqual(cells.resources.map((c: { id: string }) => c.id), ['cell-1', 'cell-2']);
      const c1 = cells.resources[0];
      assert.deepEqual(c1.capacity, { memory_mb: 4096, max_containers: 50 });
      assert.deepEqual(c1.instances, { total: 4, starting: 0, running: 2, stopping: 1, crashed: 1, stopped: 0 });
      assert.equal(c1.allocated_memory_mb, 4 * 256, 'a STOPPING instance still holds its memory');
      assert.deepEqual(c1.apps, [{ id: appA, name: 'cell-app-a', instances: 2 }], 'vera sees only the apps of space A');
      assert.equal(cells.resources[1].instances.total, 0);
      const admin = expectStatus(await h.call('GET', '/v1/cells/cell-1'), 200).body;
      assert.deepEqual(admin.apps.map((a: { name: string }) => a.name), ['cell-app-a', 'cell-app-b']);
      const zone = expectStatus(await h.call('GET', '/v1/cells?zones=z2'), 200).body;
      assert.deepEqual(zone.resources.map((c: { id: string }) => c.id), ['cell-2']);
      expectStatus(await h.call('GET', '/v1/cells/nope'), 404);
      expectStatus(await h.call('GET', '/v1/cells', undefined, null), 401);
    } finally {
      redis.disconnect();
    }
  });
});

describe('API description', () => {
  it('GET /v1/openapi.json (no token) lists every /v1 endpoint the controller serves, with body schemas from zod', async () => {
    const res = await h.call('GET', '/v1/openapi.json', undefined, null);
    assert.equal(res.status, 200);
    const doc = res.body;
    assert.equal(doc.openapi, '3.1.0');
    // Every route express actually serves under /v1 must be in the document.
    const served = servedRoutes(h).filter((r) => r.path.startsWith('/v1'));
    assert.ok(served.length > 50, `found ${served.length} served /v1 routes`);
    for (const route of served) {
      const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      assert.ok(doc.paths[path]?.[route.method], `${route.method.toUpperCase()} ${path} is documented`);
    }
    for (const path of ['/v1/apps', '/v1/apps/{app}/env', '/v1/orgs', '/v1/spaces/{id}/roles', '/v1/users/{id}/tokens', '/v1/domains', '/v1/routes/{id}/destinations', '/v1/events', '/v1/cells', '/v1/docs']) {
      assert.ok(doc.paths[path], `${path} documented`);
    }
    const createRoute = doc.paths['/v1/routes'].post;
    const schema = createRoute.requestBody.content['application/json'].schema;
    assert.deepEqual(schema.required.sort(), ['domain_id', 'host', 'space_id']);
    assert.equal(schema.additionalProperties, false);
    assert.ok(schema.properties.path);
    const destinations = doc.paths['/v1/routes/{id}/destinations'].post.requestBody.content['application/json'].schema;
    assert.equal(destinations.properties.destinations.items.properties.weight.maximum, 100);
    assert.ok(doc.paths['/v1/apps'].post.requestBody, 'the apps body schema comes from its ZodBodyPipe');
    assert.ok(doc.paths['/v1/routes'].get.parameters.some((p: { name: string }) => p.name === 'space_ids'));
    assert.ok(doc.paths['/v1/routes'].post.responses['409']);
    assert.deepEqual(doc.paths['/v1/openapi.json'].get.security, []);
  });

  it('GET /v1/docs is a self-contained HTML page reading openapi.json', async () => {
    const res = await h.call('GET', '/v1/docs', undefined, null);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.body, /fetch\('openapi\.json'\)/);
    assert.doesNotMatch(res.body, /(src|href)=["']https?:/, 'no external assets');
  });
});

/** The (method, path) pairs the HTTP server actually routes, read from express's router. */
function servedRoutes(harness: ControllerHarness): Array<{ method: string; path: string }> {
  const express = harness.app.getHttpAdapter().getInstance() as { router?: { stack: unknown[] }; _router?: { stack: unknown[] } };
  const stack = (express.router ?? express._router)?.stack ?? [];
  const out: Array<{ method: string; path: string }> = [];
  for (const layer of stack as Array<{ route?: { path: string; methods: Record<string, boolean> } }>) {
    if (!layer.route) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') out.push({ method, path: layer.route.path });
  }
  return out;
}
