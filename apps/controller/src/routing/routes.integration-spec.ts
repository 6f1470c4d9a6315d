/**
 * The routes API and route destinations (route bindings) against the real controller on a
 * private Postgres and Redis: validation, role boundaries, conflicts, concurrency and the Redis
 * projection the routers read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { redisKeys, type RouteEntry } from '@paas/contracts';
import { listHostRoutes } from '@paas/redis';
import { startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { createApp, createOrg, createSpace, createUser, defaultDomainId, expectStatus, grant, type TestUser } from '../testing/tenancy-fixtures';

let h: ControllerHarness;
let redis: Redis;
let domainId: string;
let spaceA: string;
let spaceB: string;
let dev: TestUser; // developer of A
let viewer: TestUser; // viewer of A
let devB: TestUser; // developer of B
const appsA: string[] = [];
let appB: string;

/** The route entries the routers would read for one host. */
function projection(host: string): Promise<RouteEntry[]> {
  return listHostRoutes(redis, redisKeys(h.redisPrefix), host);
}

/** (app, weight) pairs of a projected route, sorted, for comparing. */
function projected(entries: RouteEntry[], path = ''): string[] {
  const entry = entries.find((e) => e.path === path);
  assert.ok(entry, `a projected route for path "${path}"`);
  return entry.destinations.map((d) => `${d.appId}:${d.weight ?? '-'}`).sort();
}

before(async () => {
  h = await startControllerHarness();
  redis = new Redis(h.redisUrl);
  domainId = await defaultDomainId(h);
  const org = await createOrg(h, 'routing');
  spaceA = await createSpace(h, org, 'a');
  spaceB = await createSpace(h, org, 'b');
  dev = await createUser(h, 'dev');
  viewer = await createUser(h, 'viewer');
  devB = await createUser(h, 'dev-b');
  await grant(h, spaceA, dev, 'developer');
  await grant(h, spaceA, viewer, 'viewer');
  await grant(h, spaceB, devB, 'developer');
  for (let i = 0; i < 12; i++) appsA.push(await createApp(h, spaceA, `app-${i}`));
  appB = await createApp(h, spaceB, 'app-b');
  // app-0 also has a worker process type
  const pg = new Client({ connectionString: h.databaseUrl });
  await pg.connect();
  await pg.query(`INSERT INTO processes (id, app_id, type, updated_at) VALUES (gen_random_uuid(), $1, 'worker', now())`, [appsA[0]]);
  await pg.end();
});

after(async () => {
  redis?.disconnect();
  await h?.stop();
});

describe('routes', () => {
  it('a developer creates, lists, gets and deletes a route; the projection follows', async () => {
    const route = expectStatus(await h.call('POST', '/v1/routes', { host: 'shop', domain_id: domainId, space_id: spaceA }, dev.token), 201).body;
    assert.deepEqual([route.host, route.path, route.url, route.space_id, route.domain.id], ['shop', '', 'shop.apps.localhost', spaceA, domainId]);
    assert.deepEqual(route.destinations, []);
    assert.deepEqual(projected(await projection('shop.apps.localhost')), [], 'a route without destinations is projected (the router answers 404)');
    const withPath = expectStatus(await h.call('POST', '/v1/routes', { host: 'shop', domain_id: domainId, path: '/api/v1', space_id: spaceA }, dev.token), 201).body;
    assert.equal(withPath.url, 'shop.apps.localhost/api/v1');
    const list = expectStatus(await h.call('GET', `/v1/routes?hosts=shop&space_ids=${spaceA}`, undefined, viewer.token), 200).body;
    assert.deepEqual(list.resources.map((r: { id: string }) => r.id), [route.id, withPath.id]);
    expectStatus(await h.call('GET', `/v1/routes/${route.id}`, undefined, viewer.token), 200);
    expectStatus(await h.call('DELETE', `/v1/routes/${withPath.id}`, undefined, dev.token), 204);
    expectStatus(await h.call('GET', `/v1/routes/${withPath.id}`, undefined, dev.token), 404);
    assert.deepEqual((await projection('shop.apps.localhost')).map((e) => e.path), ['']);
    expectStatus(await h.call('DELETE', `/v1/routes/${route.id}`, undefined, dev.token), 204);
    assert.deepEqual(await projection('shop.apps.localhost'), []);
    const events = expectStatus(await h.call('GET', `/v1/events?types=route-created,route-deleted&target_id=${route.id}`, undefined, dev.token), 200).body;
    assert.deepEqual(events.resources.map((e: { type: string }) => e.type), ['route-deleted', 'route-created']);
  });

  it('400 names the field: bad host, bad path, missing domain', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ host: 'Bad_Host', domain_id: domainId, space_id: spaceA }, 'host'],
      [{ host: 'x', domain_id: domainId, space_id: spaceA, path: '/api/' }, 'path'],
      [{ host: 'x', domain_id: domainId, space_id: spaceA, path: '/a/../b' }, 'path'],
      [{ host: 'x', domain_id: domainId, space_id: spaceA, path: 'api' }, 'path'],
      [{ host: 'x', space_id: spaceA }, 'domain_id'],
      [{ host: 'x', domain_id: domainId, space_id: 'nope' }, 'space_id'],
    ];
    for (const [body, field] of cases) {
      const res = await h.call('POST', '/v1/routes', body, dev.token);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 'validation-failed');
      assert.ok(res.body.error.details.some((d: { field: string }) => d.field === field), `${field} named in ${JSON.stringify(res.body)}`);
    }
    const badFilter = await h.call('GET', '/v1/routes?app_ids=x', undefined, dev.token);
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.body.error.details[0].field, 'app_ids');
  });

  it('422 for an empty host on a shared domain', async () => {
    const res = await h.call('POST', '/v1/routes', { host: '', domain_id: domainId, space_id: spaceA }, dev.token);
    assert.equal(res.status, 422);
    assert.match(res.body.error.message, /private domain/);
  });

  it('409 when taken by another space: named only to those who can see it', async () => {
    const route = expectStatus(await h.call('POST', '/v1/routes', { host: 'taken', domain_id: domainId, space_id: spaceA }, dev.token), 201).body;
    const blind = await h.call('POST', '/v1/routes', { host: 'taken', domain_id: domainId, space_id: spaceB }, devB.token);
    // The host is space A's (a host belongs to one space): the answer is host-taken.
    assert.equal(blind.status, 409);
    assert.equal(blind.body.error.code, 'host-taken');
    assert.match(blind.body.error.message, /belongs to another space: .*choose another host$/);
    assert.doesNotMatch(blind.body.error.message, /space a|[0-9a-f]{8}-/);
    const admin = await h.call('POST', '/v1/routes', { host: 'taken', domain_id: domainId, space_id: spaceB });
    assert.equal(admin.status, 409);
    assert.match(admin.body.error.message, /belongs to space a of org routing/);
    assert.equal(admin.body.error.details.space_id, spaceA);
    const same = await h.call('POST', '/v1/routes', { host: 'taken', domain_id: domainId, space_id: spaceA }, dev.token);
    assert.equal(same.status, 409);
    assert.equal(same.body.error.code, 'route-taken');
    assert.match(same.body.error.message, new RegExp(`already exists in this space \\(id ${route.id}\\)`));
    // another path on the same host is another route, of the same space only (a host belongs to one space)
    expectStatus(await h.call('POST', '/v1/routes', { host: 'taken', path: '/b', domain_id: domainId, space_id: spaceA }, dev.token), 201);
    expectStatus(await h.call('POST', '/v1/routes', { host: 'taken', path: '/c', domain_id: domainId, space_id: spaceB }, devB.token), 409);
  });

  it('role boundaries: a viewer cannot create or delete (403); another space is invisible (404)', async () => {
    const route = expectStatus(await h.call('POST', '/v1/routes', { host: 'bounded', domain_id: domainId, space_id: spaceA }, dev.token), 201).body;
    const create = await h.call('POST', '/v1/routes', { host: 'viewer-route', domain_id: domainId, space_id: spaceA }, viewer.token);
    assert.equal(create.status, 403);
    assert.equal(create.body.error.code, 'forbidden');
    assert.match(create.body.error.message, /viewer/);
    expectStatus(await h.call('DELETE', `/v1/routes/${route.id}`, undefined, viewer.token), 403);
    const hidden = await h.call('GET', `/v1/routes/${route.id}`, undefined, devB.token);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body.error.code, 'not-found');
    expectStatus(await h.call('DELETE', `/v1/routes/${route.id}`, undefined, devB.token), 404);
    expectStatus(await h.call('GET', `/v1/routes/${route.id}/destinations`, undefined, devB.token), 404);
    expectStatus(await h.call('POST', '/v1/routes', { host: 'sneaky', domain_id: domainId, space_id: spaceA }, devB.token), 404);
    const listB = expectStatus(await h.call('GET', `/v1/routes?space_ids=${spaceA}`, undefined, devB.token), 200).body;
    assert.equal(listB.pagination.total_results, 0);
    expectStatus(await h.call('GET', '/v1/routes/not-an-id', undefined, dev.token), 404);
  });

  it('paginates routes in a stable order', async () => {
    for (const host of ['pg-1', 'pg-2', 'pg-3', 'pg-4', 'pg-5']) {
      expectStatus(await h.call('POST', '/v1/routes', { host, domain_id: domainId, space_id: spaceB }, devB.token), 201);
    }
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const res = expectStatus(await h.call('GET', `/v1/routes?hosts=pg-1,pg-2,pg-3,pg-4,pg-5&per_page=2&page=${page}`, undefined, devB.token), 200).body;
      assert.equal(res.pagination.total_results, 5);
      seen.push(...res.resources.map((r: { host: string }) => r.host));
      if (page < 3) assert.match(res.pagination.next.href, new RegExp(`page=${page + 1}`));
      else assert.equal(res.pagination.next, null);
    }
    assert.deepEqual(seen, ['pg-1', 'pg-2', 'pg-3', 'pg-4', 'pg-5']);
  });

  it('private domains: empty host allowed, only for spaces of the owning org', async () => {
    const orgs = expectStatus(await h.call('GET', '/v1/orgs?names=routing'), 200).body;
    const priv = expectStatus(await h.call('POST', '/v1/domains', { name: 'shop.example.com', org_id: orgs.resources[0].id }), 201).body;
    const apex = expectStatus(await h.call('POST', '/v1/routes', { host: '', domain_id: priv.id, space_id: spaceA }, dev.token), 201).body;
    assert.equal(apex.url, 'shop.example.com');
    const otherOrg = await createOrg(h, 'elsewhere');
    const otherSpace = await createSpace(h, otherOrg, 'x');
    const res = await h.call('POST', '/v1/routes', { host: 'x', domain_id: priv.id, space_id: otherSpace });
    assert.equal(res.status, 422);
    assert.match(res.body.error.message, /private to another org/);
  });
});

describe('route destinations', () => {
  let route: { id: string };
  const fqdn = 'canary.apps.localhost';

  before(async () => {
    route = expectStatus(await h.call('POST', '/v1/routes', { host: 'canary', domain_id: domainId, space_id: spaceA }, dev.token), 201).body;
  });

  it('binds, re-weights, replaces and unbinds; the projection follows every change', async () => {
    const bound = expectStatus(await h.call('POST', `/v1/routes/${route.id}/destinations`, { destinations: [{ app: { id: appsA[0] } }] }, dev.token), 200).body;
    assert.equal(bound.destinations.length, 1);
    assert.deepEqual(
      [bound.destinations[0].app.id, bound.destinations[0].app.name, bound.destinations[0].process_type, bound.destinations[0].port, bound.destinations[0].weight],
      [appsA[0], 'app-0', 'web', 8080, null],
    );
    assert.deepEqual(projected(await projection(fqdn)), [`${appsA[0]}:-`]);
    // insert again with a weight: same destination, new weight
    expectStatus(await h.call('POST', `/v1/routes/${route.id}/destinations`, { destinations: [{ app: { id: appsA[0] }, weight: 90 }, { app: { id: appsA[1] }, weight: 10 }] }, dev.token), 200);
    assert.deepEqual(projected(await projection(fqdn)), [`${appsA[0]}:90`, `${appsA[1]}:10`].sort());
    const listed = expectStatus(await h.call('GET', `/v1/routes/${route.id}/destinations`, undefined, viewer.token), 200).body;
    assert.equal(listed.destinations.length, 2);
    assert.equal(listed.destinations.find((d: { app: { id: string } }) => d.app.id === appsA[0]).id, bound.destinations[0].id, 'ids stay');
    // blue-green: replace all
    const replaced = expectStatus(await h.call('PATCH', `/v1/routes/${route.id}/destinations`, { destinations: [{ app: { id: appsA[2] } }, { app: { id: appsA[0] }, process_type: 'worker' }] }, dev.token), 200).body;
    assert.deepEqual(replaced.destinations.map((d: { app: { name: string }; process_type: string }) => `${d.app.name}/${d.process_type}`).sort(), ['app-0/worker', 'app-2/web']);
    assert.deepEqual(projected(await projection(fqdn)), [`${appsA[0]}:-`, `${appsA[2]}:-`].sort());
    // unbind one
    const worker = replaced.destinations.find((d: { process_type: string }) => d.process_type === 'worker');
    expectStatus(await h.call('DELETE', `/v1/routes/${route.id}/destinations/${worker.id}`, undefined, dev.token), 204);
    assert.deepEqual(projected(await projection(fqdn)), [`${appsA[2]}:-`]);
    expectStatus(await h.call('DELETE', `/v1/routes/${route.id}/destinations/${worker.id}`, undefined, dev.token), 404);
    // the route shows its destinations; the app filter finds it
    const byApp = expectStatus(await h.call('GET', `/v1/routes?app_ids=${appsA[2]}`, undefined, dev.token), 200).body;
    assert.deepEqual(byApp.resources.map((r: { id: string }) => r.id), [route.id]);
    // unbind all
    expectStatus(await h.call('PATCH', `/v1/routes/${route.id}/destinations`, { destinations: [] }, dev.token), 200);
    assert.deepEqual(projected(await projection(fqdn)), []);
  });

  it('records route-mapped and route-unmapped with the app as target', async () => {
    const events = expectStatus(await h.call('GET', `/v1/events?types=route-mapped,route-unmapped&target_id=${appsA[0]}`, undefined, dev.token), 200).body;
    const types = events.resources.map((e: { type: string }) => e.type);
    assert.deepEqual(types, ['route-unmapped', 'route-mapped', 'route-unmapped', 'route-mapped']);
    const mapped = events.resources.at(-1);
    assert.deepEqual([mapped.target.type, mapped.target.name, mapped.data.url, mapped.actor.name, mapped.space_id], ['app', 'app-0', fqdn, 'dev', spaceA]);
    const weighted = expectStatus(await h.call('GET', `/v1/events?types=route-destination-updated&target_id=${appsA[0]}`, undefined, dev.token), 200).body;
    assert.equal(weighted.resources[0].data.weight, 90);
  });

  it('403 for a viewer, 404 for another space, 422 for what cannot be bound, 400 for bad weights', async () => {
    const body = { destinations: [{ app: { id: appsA[3] } }] };
    const viewerPost = await h.call('POST', `/v1/routes/${route.id}/destinations`, body, viewer.token);
    assert.equal(viewerPost.status, 403);
    assert.equal(viewerPost.body.error.code, 'forbidden');
    expectStatus(await h.call('PATCH', `/v1/routes/${route.id}/destinations`, body, viewer.token), 403);
    expectStatus(await h.call('POST', `/v1/routes/${route.id}/destinations`, body, devB.token), 404);
    const unprocessable: Array<[unknown, RegExp, string]> = [
      [{ destinations: [{ app: { id: appsA[3] }, port: 9090 }] }, /\$PORT, which is 8080/, 'admin'],
      [{ destinations: [{ app: { id: appsA[3] }, process_type: 'worker' }] }, /has no process type worker \(it has: web\)/, 'dev'],
      [{ destinations: [{ app: { id: appB } }] }, /another space/, 'admin'],
      [{ destinations: [{ app: { id: appsA[3] } }, { app: { id: appsA[3] } }] }, /list each destination once/, 'dev'],
    ];
    for (const [payload, message, who] of unprocessable) {
      const res = await h.call('POST', `/v1/routes/${route.id}/destinations`, payload, who === 'dev' ? dev.token : undefined);
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'unprocessable');
      assert.match(res.body.error.message, message);
    }
    const invisible = await h.call('POST', `/v1/routes/${route.id}/destinations`, { destinations: [{ app: { id: appB } }] }, dev.token);
    assert.equal(invisible.status, 404, 'an app the developer cannot see is not found');
    for (const weight of [0, 101, 1.5]) {
      const res = await h.call('POST', `/v1/routes/${route.id}/destinations`, { destinations: [{ app: { id: appsA[3] }, weight }] }, dev.token);
      assert.equal(res.status, 400);
      assert.equal(res.body.error.details[0].field, 'destinations.0.weight');
    }
    const noApp = await h.call('POST', `/v1/routes/${route.id}/destinations`, { destinations: [{}] }, dev.token);
    assert.equal(noApp.status, 400);
    assert.equal(noApp.body.error.details[0].field, 'destinations.0.app');
    const current = expectStatus(await h.call('GET', `/v1/routes/${route.id}/destinations`, undefined, dev.token), 200).body;
    assert.deepEqual(current.destinations, [], 'nothing was bound by the refused requests');
  });

  it('10 parallel inserts of different apps all land', async () => {
    const results = await Promise.all(
      appsA.slice(0, 10).map((app) => h.call('POST', `/v1/routes/${route.id}/destinations`, { destinations: [{ app: { id: app } }] }, dev.token)),
    );
    for (const res of results) expectStatus(res, 200);
    const current = expectStatus(await h.call('GET', `/v1/routes/${route.id}/destinations`, undefined, dev.token), 200).body;
    assert.deepEqual(current.destinations.map((d: { app: { id: string } }) => d.app.id).sort(), appsA.slice(0, 10).sort());
    assert.equal(projected(await projection(fqdn)).length, 10);
  });

  it('parallel replace-alls: the final state is exactly one of the requests, never a mix', async () => {
    for (let round = 0; round < 3; round++) {
      const requests = Array.from({ length: 8 }, (_, i) => [appsA[i], appsA[i + 1], appsA[(i + 5) % 12]].map((app, j) => ({ app: { id: app }, weight: 10 * (i + 1) + j })));
      const results = await Promise.all(requests.map((destinations) => h.call('PATCH', `/v1/routes/${route.id}/destinations`, { destinations }, dev.token)));
      for (const res of results) expectStatus(res, 200);
      const final = expectStatus(await h.call('GET', `/v1/routes/${route.id}/destinations`, undefined, dev.token), 200).body;
      const state = final.destinations.map((d: { app: { id: string }; weight: number }) => `${d.app.id}:${d.weight}`).sort();
      const candidates = requests.map((r) => r.map((d) => `${d.app.id}:${d.weight}`).sort());
      assert.ok(candidates.some((c) => JSON.stringify(c) === JSON.stringify(state)), `final state ${JSON.stringify(state)} is one request's`);
      assert.deepEqual(projected(await projection(fqdn)), state, 'the projection shows the final state');
    }
  });

  it('deleting a space with routes but no apps removes its routes from the projection', async () => {
    const orgs = expectStatus(await h.call('GET', '/v1/orgs?names=routing'), 200).body;
    const temp = await createSpace(h, orgs.resources[0].id, 'temp');
    expectStatus(await h.call('POST', '/v1/routes', { host: 'ephemeral', domain_id: domainId, space_id: temp }), 201);
    assert.equal((await projection('ephemeral.apps.localhost')).length, 1);
    const busy = await h.call('DELETE', `/v1/spaces/${spaceA}`);
    assert.equal(busy.status, 422, 'space A still has apps');
    expectStatus(await h.call('DELETE', `/v1/spaces/${temp}`), 204);
    assert.deepEqual(await projection('ephemeral.apps.localhost'), []);
  });
});

describe('a host belongs to one space (the second tenant tries to take it)', () => {
  const fqdnOf = (host: string) => `${host}.apps.localhost`;
  const spaceOfRoutes = async (host: string) => {
    const pg = new Client({ connectionString: h.databaseUrl });
    await pg.connect();
    try {
      return (await pg.query<{ space_id: string; path: string }>('SELECT space_id, path FROM routes WHERE host = $1 ORDER BY path', [host])).rows;
    } finally {
      await pg.end();
    }
  };

  it('409 host-taken for every path of another space\'s host, naming the rule; the owner is named only to who may see it', async () => {
    expectStatus(await h.call('POST', '/v1/routes', { host: 'victim', domain_id: domainId, space_id: spaceA }, dev.token), 201);
    for (const path of ['/api', '/api/v1', '', '/login', '/.well-known']) {
      const res = await h.call('POST', '/v1/routes', { host: 'victim', path, domain_id: domainId, space_id: spaceB }, devB.token);
      assert.equal(res.status, 409, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'host-taken');
      assert.match(res.body.error.message, /the host victim\.apps\.localhost belongs to another space: a host belongs to one space: every route on it, whatever its path, is in the space of the host's first route/);
      assert.doesNotMatch(res.body.error.message, /space a|routing|[0-9a-f]{8}-/, 'devB does not learn who owns it');
      assert.equal(res.body.error.details, undefined);
    }
    const admin = await h.call('POST', '/v1/routes', { host: 'victim', path: '/api', domain_id: domainId, space_id: spaceB });
    assert.equal(admin.status, 409);
    assert.match(admin.body.error.message, /belongs to space a of org routing: .*create the route in space a/);
    assert.equal(admin.body.error.details.space_id, spaceA);
    assert.deepEqual((await spaceOfRoutes('victim')).map((r) => r.space_id), [spaceA], 'nothing was created for B');
    assert.deepEqual((await projection(fqdnOf('victim'))).map((e) => e.path), ['']);
    // A itself adds paths to its host freely
    expectStatus(await h.call('POST', '/v1/routes', { host: 'victim', path: '/api', domain_id: domainId, space_id: spaceA }, dev.token), 201);
  });

  it('the path spellings an attacker would try are refused: route paths are stored in the router\'s normal form only', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/%61pi', /not in normal form: write it as "\/api"/],
      ['/%2e%2e', /not in normal form: write it as "" \(the whole host\)/],
      ['/x/../api', /write it as "\/api"/],
      ['//api', /write it as "\/api"/],
      ['/./api', /write it as "\/api"/],
      ['/caf%c3%a9', /write it as "\/caf%C3%A9"/],
      ['/api%2Fx', /ambiguous: it has %2F/],
      ['/api%5Cx', /ambiguous: it has %5C/],
      ['/api\\x', /ambiguous: it has a "\\"/],
      ['/api%00', /ambiguous: it has %00/],
      ['/api%zz', /ambiguous: it has an invalid percent-escape "%zz"/],
      ['/api%', /ambiguous: it has an invalid percent-escape "%"/],
      ['/x/..;', /ambiguous/],
      ['/caf\u00e9', /non-ASCII/],
      ['/api?x', /has a "\?"/],
      ['/api#x', /ambiguous: it has a "#"/],
    ];
    for (const [path, message] of cases) {
      const res = await h.call('POST', '/v1/routes', { host: 'victim', path, domain_id: domainId, space_id: spaceA }, dev.token);
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.details[0].field, 'path');
      assert.match(res.body.error.message, message, path);
      assert.match(res.body.error.message, /normal form/, 'the message names the normal form');
    }
    expectStatus(await h.call('POST', '/v1/routes', { host: 'victim', path: '/caf%C3%A9', domain_id: domainId, space_id: spaceA }, dev.token), 201);
  });

  it('an app created with a name another space holds as a host gets no route and is not created', async () => {
    expectStatus(await h.call('POST', '/v1/routes', { host: 'squatted', path: '/api', domain_id: domainId, space_id: spaceB }, devB.token), 201);
    const res = await h.call('POST', '/v1/apps', { name: 'squatted', space_id: spaceA }, dev.token);
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'host-taken');
    assert.match(res.body.error.message, /the host squatted\.apps\.localhost belongs to another space: a host belongs to one space.*choose another app name, or create the app with "no_route": true/);
    expectStatus(await h.call('GET', '/v1/apps/squatted'), 404, 'no half-made app');
    // and the other way round: an app's default route makes its host its space's
    const app = expectStatus(await h.call('POST', '/v1/apps', { name: 'owned-by-a', space_id: spaceA }, dev.token), 201).body;
    const takeover = await h.call('POST', '/v1/routes', { host: 'owned-by-a', path: '/api', domain_id: domainId, space_id: spaceB }, devB.token);
    assert.equal(takeover.status, 409);
    assert.equal(takeover.body.error.code, 'host-taken');
    // deleting the app deletes its only route: the host is free again
    expectStatus(await h.call('DELETE', `/v1/apps/${app.id}`), 204);
    expectStatus(await h.call('POST', '/v1/routes', { host: 'owned-by-a', path: '/api', domain_id: domainId, space_id: spaceB }, devB.token), 201);
  });

  it('the host is free again once its last route is deleted, not before', async () => {
    const root = expectStatus(await h.call('POST', '/v1/routes', { host: 'moving', domain_id: domainId, space_id: spaceA }, dev.token), 201).body;
    const api = expectStatus(await h.call('POST', '/v1/routes', { host: 'moving', path: '/api', domain_id: domainId, space_id: spaceA }, dev.token), 201).body;
    expectStatus(await h.call('DELETE', `/v1/routes/${root.id}`, undefined, dev.token), 204);
    expectStatus(await h.call('POST', '/v1/routes', { host: 'moving', domain_id: domainId, space_id: spaceB }, devB.token), 409, '/api still holds the host');
    expectStatus(await h.call('DELETE', `/v1/routes/${api.id}`, undefined, dev.token), 204);
    expectStatus(await h.call('POST', '/v1/routes', { host: 'moving', domain_id: domainId, space_id: spaceB }, devB.token), 201);
    expectStatus(await h.call('POST', '/v1/routes', { host: 'moving', path: '/api', domain_id: domainId, space_id: spaceA }, dev.token), 409);
  });

  it('two spaces creating the first route of a host at once (on two controller replicas): one wins, the host is one space\'s', async () => {
    const replica = await h.replica();
    try {
      // Each round also races two claims of one space (A on both replicas): a unique index that
      // is not the conflict target raised there once in a while (a 500).
      for (let round = 0; round < 24; round++) {
        const host = `race-${round}`;
        const attempts = [
          h.call('POST', '/v1/routes', { host, domain_id: domainId, space_id: spaceA }, dev.token),
          replica.call('POST', '/v1/routes', { host, path: '/api', domain_id: domainId, space_id: spaceB }, devB.token),
          h.call('POST', '/v1/routes', { host, path: '/b', domain_id: domainId, space_id: spaceB }, devB.token),
          replica.call('POST', '/v1/routes', { host, path: '/a', domain_id: domainId, space_id: spaceA }, dev.token),
        ];
        const results = await Promise.all(attempts);
        for (const res of results) assert.ok(res.status === 201 || (res.status === 409 && res.body.error.code === 'host-taken'), JSON.stringify(res.body));
        const spaces = new Set((await spaceOfRoutes(host)).map((r) => r.space_id));
        assert.equal(spaces.size, 1, `${host}: routes of one space only`);
        const winner = [...spaces][0];
        assert.deepEqual(
          results.map((r) => r.status),
          [spaceA, spaceB, spaceB, spaceA].map((s) => (s === winner ? 201 : 409)),
          `${host}: every request of the winning space landed, every other one got 409`,
        );
      }
    } finally {
      await replica.close();
    }
  });

  it('an app created while another space creates a path route on its name: one of them gets the host, no half-made app', async () => {
    const replica = await h.replica();
    try {
      for (let round = 0; round < 6; round++) {
        const name = `contested-${round}`;
        const [app, route] = await Promise.all([
          h.call('POST', '/v1/apps', { name, space_id: spaceA }, dev.token),
          replica.call('POST', '/v1/routes', { host: name, path: '/api', domain_id: domainId, space_id: spaceB }, devB.token),
        ]);
        assert.ok([app.status, route.status].sort().join() === '201,409', `${name}: one wins (${app.status}, ${route.status})`);
        const spaces = new Set((await spaceOfRoutes(name)).map((r) => r.space_id));
        assert.deepEqual([...spaces], [app.status === 201 ? spaceA : spaceB]);
        expectStatus(await h.call('GET', `/v1/apps/${name}`), app.status === 201 ? 200 : 404, `${name} exists only if it got its route`);
      }
    } finally {
      await replica.close();
    }
  });

  it('Postgres itself refuses a route of another space on an owned host, a foreign app as destination, another org\'s private domain', async () => {
    const pg = new Client({ connectionString: h.databaseUrl });
    await pg.connect();
    try {
      await assert.rejects(
        pg.query(`INSERT INTO routes (id, space_id, domain_id, host, path) VALUES (gen_random_uuid(), $1, $2, 'victim', '/direct')`, [spaceB, domainId]),
        /routes_domain_id_host_space_id_fkey/,
      );
      // ... nor a destination binding an app of another space, nor a route on another org's private domain
      const [victim] = (await pg.query<{ id: string }>(`SELECT id FROM routes WHERE host = 'victim' AND path = ''`)).rows;
      await assert.rejects(
        pg.query(`INSERT INTO route_destinations (id, route_id, app_id) VALUES (gen_random_uuid(), $1, $2)`, [victim!.id, appB]),
        /binds an app of another space/,
      );
      const elsewhere = await createOrg(h, 'db-elsewhere');
      const foreign = expectStatus(await h.call('POST', '/v1/domains', { name: 'foreign.example.net', org_id: elsewhere }), 201).body;
      await pg.query(`INSERT INTO route_hosts (domain_id, host, space_id) VALUES ($1, 'x', $2)`, [foreign.id, spaceA]);
      await assert.rejects(
        pg.query(`INSERT INTO routes (id, space_id, domain_id, host, path) VALUES (gen_random_uuid(), $1, $2, 'x', '')`, [spaceA, foreign.id]),
        /private to another org/,
      );
      await pg.query(`DELETE FROM route_hosts WHERE domain_id = $1`, [foreign.id]);
    } finally {
      await pg.end();
    }
  });

  it('private domains: a host of one space there too; another org can neither route on it nor bind its apps', async () => {
    const orgs = expectStatus(await h.call('GET', '/v1/orgs?names=routing'), 200).body;
    const priv = expectStatus(await h.call('POST', '/v1/domains', { name: 'corp.example.org', org_id: orgs.resources[0].id }), 201).body;
    const own = expectStatus(await h.call('POST', '/v1/routes', { host: 'intranet', domain_id: priv.id, space_id: spaceA }, dev.token), 201).body;
    const sibling = await h.call('POST', '/v1/routes', { host: 'intranet', path: '/api', domain_id: priv.id, space_id: spaceB }, devB.token);
    assert.equal(sibling.status, 409, 'a sibling space of the same org cannot take a path of the host either');
    assert.equal(sibling.body.error.code, 'host-taken');
    const otherOrg = await createOrg(h, 'intruders');
    const intruderSpace = await createSpace(h, otherOrg, 'x');
    const intruder = await createUser(h, 'intruder');
    await grant(h, intruderSpace, intruder, 'developer');
    const hidden = await h.call('POST', '/v1/routes', { host: 'other', domain_id: priv.id, space_id: intruderSpace }, intruder.token);
    assert.equal(hidden.status, 404, 'the private domain of another org is not even visible');
    const asAdmin = await h.call('POST', '/v1/routes', { host: 'other', domain_id: priv.id, space_id: intruderSpace });
    assert.equal(asAdmin.status, 422);
    assert.match(asAdmin.body.error.message, /private to another org/);
    const intruderApp = await createApp(h, intruderSpace, 'intruder-app');
    const bind = await h.call('POST', `/v1/routes/${own.id}/destinations`, { destinations: [{ app: { id: intruderApp } }] });
    assert.equal(bind.status, 422, 'an app of another org is never bound to the route');
    assert.match(bind.body.error.message, /another space/);
    const bindBlind = await h.call('POST', `/v1/routes/${own.id}/destinations`, { destinations: [{ app: { id: intruderApp } }] }, intruder.token);
    assert.equal(bindBlind.status, 404, 'the intruder cannot even see the route');
    const bindOwn = await h.call('POST', `/v1/routes/${own.id}/destinations`, { destinations: [{ app: { id: intruderApp } }] }, dev.token);
    assert.equal(bindOwn.status, 404, "A's developer cannot bind an app it cannot see");
    assert.deepEqual(expectStatus(await h.call('GET', `/v1/routes/${own.id}/destinations`), 200).body.destinations, []);
  });

  it('routes stored before the rules: paths put in normal form at boot, a foreign route on an owned host not served', async () => {
    const pg = new Client({ connectionString: h.databaseUrl });
    await pg.connect();
    try {
      expectStatus(await h.call('POST', '/v1/routes', { host: 'legacy', domain_id: domainId, space_id: spaceA }, dev.token), 201);
      // What an older controller could store: a percent-encoded path, and B's path route on A's host.
      await pg.query('ALTER TABLE routes DROP CONSTRAINT routes_domain_id_host_space_id_fkey');
      await pg.query(`INSERT INTO routes (id, space_id, domain_id, host, path) VALUES (gen_random_uuid(), $1, $2, 'legacy', '/%61pi'), (gen_random_uuid(), $3, $2, 'legacy', '/admin')`, [
        spaceA,
        domainId,
        spaceB,
      ]);
      await pg.query(`ALTER TABLE routes ADD CONSTRAINT routes_domain_id_host_space_id_fkey FOREIGN KEY (domain_id, host, space_id)
        REFERENCES route_hosts (domain_id, host, space_id) ON DELETE NO ACTION ON UPDATE NO ACTION NOT VALID`);
      const replica = await h.replica(); // boots: normalizes stored paths, re-projects every host
      await replica.close();
      assert.deepEqual((await spaceOfRoutes('legacy')).map((r) => `${r.path}:${r.space_id === spaceA ? 'A' : 'B'}`), [':A', '/admin:B', '/api:A']);
      assert.deepEqual((await projection(fqdnOf('legacy'))).map((e) => e.path).sort(), ['', '/api'], "B's route on A's host is not served");
    } finally {
      await pg.end();
    }
  });
});
