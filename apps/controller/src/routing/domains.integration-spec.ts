/**
 * Own domains against the real controller on a private Postgres and Redis: org managers claim a
 * domain of their org (pending), the claim rules between orgs, verification over HTTP (through
 * a loopback responder answering from the well-known answers the controller published, as the
 * router does) and over DNS (a real DNS server, pebble-challtestsrv), routes only on verified
 * domains, and the routes' HTTPS settings up to the Redis entries the routers read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer as createNetServer, type Socket } from 'node:net';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { domainViewSchema, redisKeys, routeViewSchema, wellKnownField, type RedisKeys } from '@paas/contracts';
import { listHostRoutes, readWellKnownAnswers } from '@paas/redis';
import { freePort } from '@paas/local-services';
import { startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { createOrg, createSpace, createUser, defaultDomainId, expectStatus, grant, type TestUser } from '../testing/tenancy-fixtures';
import { startFakeDns, type FakeDns } from '@paas/testing';
import { startForeignServer, startWellKnownResponder, type TestHttpServer } from '../testing/domain-verification-servers';

let h: ControllerHarness;
let redis: Redis;
let keys: RedisKeys;
let dns: FakeDns;
const servers: TestHttpServer[] = [];
let orgA: string;
let orgB: string;
let spaceA: string;
let alice: TestUser; // admin of space A: org manager of A
let dave: TestUser; // developer of A
let vera: TestUser; // viewer of A
let bob: TestUser; // admin of space B: org manager of B

const TOKEN_PATH = '/.well-known/paas-domain-verification/';

async function sql(text: string, values: unknown[] = []): Promise<void> {
  const pg = new Client({ connectionString: h.databaseUrl });
  await pg.connect();
  try {
    await pg.query(text, values);
  } finally {
    await pg.end();
  }
}

async function claim(name: string, orgId: string, user: TestUser) {
  const body = expectStatus(await h.call('POST', '/v1/domains', { name, org_id: orgId }, user.token), 201, `claim ${name}`).body;
  domainViewSchema.parse(body);
  return body as { id: string; name: string; verification: { state: string; token: string; http_url: string | null; last_error: string | null } };
}

async function publishedToken(name: string, token: string): Promise<string | undefined> {
  return (await readWellKnownAnswers(redis, keys)).get(wellKnownField(name, TOKEN_PATH + token))?.body;
}

async function eventTypes(targetId: string): Promise<string[]> {
  const events = expectStatus(await h.call('GET', `/v1/events?target_id=${targetId}`), 200).body;
  return events.resources.map((e: { type: string }) => e.type);
}

before(async () => {
  dns = await startFakeDns();
  const port = await freePort();
  // 127.0.0.1: the platform's router; 127.0.0.2: a server that is not; 127.0.0.3: nothing listens.
  h = await startControllerHarness({ PAAS_DNS_RESOLVER: dns.address, PAAS_DOMAIN_VERIFY_HTTP_PORT: String(port) });
  redis = new Redis(h.redisUrl);
  keys = redisKeys(h.redisPrefix);
  servers.push(await startWellKnownResponder(() => ({ redis, keys }), '127.0.0.1', port));
  servers.push(
    await startForeignServer('127.0.0.2', port, (host) =>
      host === 'wrong-body.example.test' ? { status: 200, body: 'welcome to my site' } : host === 'huge.example.test' ? { status: 200, body: 'x'.repeat(1 << 20) } : { status: 404, body: 'not found' },
    ),
  );
  orgA = await createOrg(h, 'acme');
  orgB = await createOrg(h, 'globex');
  spaceA = await createSpace(h, orgA, 'a');
  const spaceB = await createSpace(h, orgB, 'b');
  alice = await createUser(h, 'alice');
  dave = await createUser(h, 'dave');
  vera = await createUser(h, 'vera');
  bob = await createUser(h, 'bob');
  await grant(h, spaceA, alice, 'admin');
  await grant(h, spaceA, dave, 'developer');
  await grant(h, spaceA, vera, 'viewer');
  await grant(h, spaceB, bob, 'admin');
});

after(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  redis?.disconnect();
  await h?.stop();
  await dns?.stop();
});

describe('claiming a domain', () => {
  it('an org manager claims a domain of its org: pending, with its token published for the routers', async () => {
    const domain = await claim('shop.example.test', orgA, alice);
    const token = domain.verification.token;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.deepEqual(domain.verification, {
      state: 'pending',
      token,
      http_url: `http://shop.example.test${TOKEN_PATH}${token}`,
      dns_record: { name: '_paas-verification.shop.example.test', type: 'TXT', value: token },
      verified_at: null,
      last_error: null,
    });
    assert.equal(await publishedToken('shop.example.test', token), token);
    assert.deepEqual(expectStatus(await h.call('GET', `/v1/domains/${domain.id}`, undefined, vera.token), 200).body.verification, domain.verification);
    assert.deepEqual(await eventTypes(domain.id), ['domain-created']);
    // An admin's domain is verified at once.
    const admins = expectStatus(await h.call('POST', '/v1/domains', { name: 'corp.example.test', org_id: orgA }), 201).body;
    assert.equal(admins.verification.state, 'verified');
    assert.equal(admins.verification.token, null);
    assert.ok(admins.verification.verified_at);
  });

  it('viewers, developers, other orgs\' managers and shared domains are refused with the role needed (403)', async () => {
    for (const [user, body] of [
      [vera, { name: 'v.example.test', org_id: orgA }],
      [dave, { name: 'd.example.test', org_id: orgA }],
      [bob, { name: 'b.example.test', org_id: orgA }],
      [alice, { name: 'nonexistent-org.example.test', org_id: '00000000-0000-4000-8000-000000000000' }],
    ] as const) {
      const res = await h.call('POST', '/v1/domains', body, user.token);
      assert.equal(res.status, 403, `${user.name}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error.message, /needs the org manager role: the admin role in a space of org/);
    }
    const shared = await h.call('POST', '/v1/domains', { name: 'shared.example.test' }, alice.token);
    assert.equal(shared.status, 403);
    assert.match(shared.body.error.message, /platform admin/);
  });

  it("another org's verified domain is refused; its pending claims are not, and who proves control first holds the name", async () => {
    expectStatus(await h.call('POST', '/v1/domains', { name: 'held.example.test', org_id: orgB }), 201);
    const held = await h.call('POST', '/v1/domains', { name: 'held.example.test', org_id: orgA }, alice.token);
    assert.equal(held.status, 409);
    assert.equal(held.body.error.code, 'domain-held');
    assert.match(held.body.error.message, /the domain held.example.test is held by another org/);
    assert.ok(!JSON.stringify(held.body).includes(orgB) && !held.body.error.message.includes('globex'), 'the holder is not named');

    // A squatter's pending claims (the name, one inside it) do not stop the owner.
    const squat = await claim('contested.example.test', orgB, bob);
    const squatInside = await claim('in.nested.example.test', orgB, bob);
    const owner = await claim('contested.example.test', orgA, alice);
    const nested = await claim('nested.example.test', orgA, alice);
    assert.equal(owner.verification.state, 'pending');
    const seen = expectStatus(await h.call('GET', '/v1/domains?names=contested.example.test,in.nested.example.test', undefined, alice.token), 200).body;
    assert.deepEqual(seen.resources.map((d: { id: string }) => d.id), [owner.id], "another org's pending claims are never listed");
    expectStatus(await h.call('POST', '/v1/domains', { name: 'contested.example.test', org_id: orgA }, alice.token), 409, 'one claim per org and name');

    // The owner proves control: the other org's claims of the name and inside it go, with their tokens.
    await dns.addA('contested.example.test', ['127.0.0.1']);
    await dns.addA('nested.example.test', ['127.0.0.1']);
    expectStatus(await h.call('POST', `/v1/domains/${owner.id}/verify`, {}, alice.token), 200);
    expectStatus(await h.call('GET', `/v1/domains/${squat.id}`), 404);
    assert.equal(await publishedToken('contested.example.test', squat.verification.token), undefined, "the losing claim's token is withdrawn");
    assert.deepEqual(await eventTypes(squat.id), ['domain-deleted', 'domain-created']);
    expectStatus(await h.call('POST', `/v1/domains/${nested.id}/verify`, {}, alice.token), 200);
    expectStatus(await h.call('GET', `/v1/domains/${squatInside.id}`), 404);
    const again = await h.call('POST', '/v1/domains', { name: 'contested.example.test', org_id: orgB }, bob.token);
    assert.equal(again.status, 409, 'now it is held');
    assert.equal(again.body.error.code, 'domain-held');

    // A platform admin's domain is verified at once: it beats pending claims the same way.
    const waiting = await claim('admin-added.example.test', orgB, bob);
    expectStatus(await h.call('POST', '/v1/domains', { name: 'admin-added.example.test', org_id: orgA }), 201);
    expectStatus(await h.call('GET', `/v1/domains/${waiting.id}`), 404);
    assert.equal(await publishedToken('admin-added.example.test', waiting.verification.token), undefined);
  });

  it('names inside or above a held one are refused without naming it; a shared domain\'s subdomains are refused', async () => {
    expectStatus(await h.call('POST', '/v1/domains', { name: 'inner.globex.example.net', org_id: orgB }), 201);
    for (const [name, hidden] of [['a.held.example.test', 'held.example.test'], ['globex.example.net', 'inner.']]) {
      const res = await h.call('POST', '/v1/domains', { name, org_id: orgA }, alice.token);
      assert.equal(res.status, 422, name);
      assert.match(res.body.error.message, /overlaps a domain of another org, inside or above it, held:/);
      assert.ok(!res.body.error.message.replaceAll(name, 'CLAIMED').includes(hidden), res.body.error.message);
      assert.deepEqual(res.body.error.details, {});
    }
    const own = await h.call('POST', '/v1/domains', { name: 'a.shop.example.test', org_id: orgA }, alice.token);
    assert.equal(own.status, 422);
    assert.match(own.body.error.message, /overlaps domain shop.example.test of the same org/);
    const inside = await h.call('POST', '/v1/domains', { name: 'foo.apps.localhost', org_id: orgA }, alice.token);
    assert.equal(inside.status, 422);
    assert.match(inside.body.error.message, /foo.apps.localhost is inside the shared domain apps.localhost/);
    // Platform admins are held to the same rules.
    expectStatus(await h.call('POST', '/v1/domains', { name: 'x.held.example.test', org_id: orgA }), 422);
  });
});

describe('verifying a domain', () => {
  it('over HTTP: the token the controller published, served for the domain\'s Host, verifies it; routes wait for that', async () => {
    const domain = await claim('web.example.test', orgA, alice);
    await dns.addA('web.example.test', ['127.0.0.1']);
    const early = await h.call('POST', '/v1/routes', { host: 'www', domain_id: domain.id, space_id: spaceA }, dave.token);
    assert.equal(early.status, 422);
    assert.equal(early.body.error.code, 'domain-not-verified');
    assert.match(early.body.error.message, new RegExp(`verify the domain first \\(POST /v1/domains/${domain.id}/verify\\)`));
    expectStatus(await h.call('POST', `/v1/domains/${domain.id}/verify`, { method: 'http' }, vera.token), 403);
    expectStatus(await h.call('POST', `/v1/domains/${domain.id}/verify`, { method: 'http' }, bob.token), 404);
    expectStatus(await h.call('POST', `/v1/domains/${domain.id}/verify`, { method: 'smtp' }, alice.token), 400);
    // Redis lost the answer (restarted empty): the verify call publishes it again.
    await redis.hdel(keys.wellKnown, wellKnownField('web.example.test', TOKEN_PATH + domain.verification.token));
    const verified = expectStatus(await h.call('POST', `/v1/domains/${domain.id}/verify`, {}, alice.token), 200).body;
    domainViewSchema.parse(verified);
    assert.deepEqual({ ...verified.verification, verified_at: typeof verified.verification.verified_at }, {
      state: 'verified', token: null, http_url: null, dns_record: null, verified_at: 'string', last_error: null,
    });
    assert.equal(await publishedToken('web.example.test', domain.verification.token), undefined, 'the answer is withdrawn');
    assert.deepEqual(await eventTypes(domain.id), ['domain-verified', 'domain-created']);
    expectStatus(await h.call('POST', `/v1/domains/${domain.id}/verify`, {}, alice.token), 200, 'verifying again');
    const route = expectStatus(await h.call('POST', '/v1/routes', { host: 'www', domain_id: domain.id, space_id: spaceA }, dave.token), 201).body;
    assert.equal(route.url, 'www.web.example.test');
  });

  it('over HTTP fails with the reason: 404, another body, a huge body, nothing listening, no address', async () => {
    await dns.addA('not-found.example.test', ['127.0.0.2']);
    await dns.addA('wrong-body.example.test', ['127.0.0.2']);
    await dns.addA('huge.example.test', ['127.0.0.2']);
    await dns.addA('closed.example.test', ['127.0.0.3']);
    await dns.addA('metadata.example.test', ['169.254.169.254']);
    const cases: Array<[string, RegExp]> = [
      ['not-found.example.test', /^http:\/\/not-found.example.test\/.well-known\/paas-domain-verification\/[\w-]+ answered 404 \(asked 127.0.0.2:\d+\)/],
      ['wrong-body.example.test', /answered 200 but not with the token \(asked 127.0.0.2:\d+\)/],
      ['huge.example.test', /answered 200 but not with the token/],
      ['closed.example.test', /could not be fetched from 127.0.0.3:\d+ \(ECONNREFUSED\)/],
      ['metadata.example.test', /resolves to 169.254.169.254, which cannot be an address of the platform's routers/],
      ['nowhere.example.test', new RegExp(`^nowhere.example.test did not resolve \\(asked ${dns.address.replace(/\./g, '\\.')}: ENODATA\\)`)],
    ];
    for (const [name, reason] of cases) {
      const domain = await claim(name, orgA, alice);
      const started = Date.now();
      const res = await h.call('POST', `/v1/domains/${domain.id}/verify`, { method: 'http' }, alice.token);
      assert.ok(Date.now() - started < 5_000, `${name} answered within the timeout`);
      assert.equal(res.status, 422, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'domain-verification-failed');
      assert.match(res.body.error.message, new RegExp(`^${name} is not verified: `));
      const after = expectStatus(await h.call('GET', `/v1/domains/${domain.id}`, undefined, vera.token), 200).body;
      assert.equal(after.verification.state, 'pending');
      assert.match(after.verification.last_error, reason);
      assert.ok(!res.body.error.message.includes('welcome to my site'), 'the body fetched is never shown');
      assert.deepEqual(await eventTypes(domain.id), ['domain-verification-failed', 'domain-created']);
      expectStatus(await h.call('POST', '/v1/routes', { host: 'www', domain_id: domain.id, space_id: spaceA }, dave.token), 422);
    }
  });

  it('over HTTP is time-bound: a server that accepts and never answers fails after 5 s', async () => {
    const held: Socket[] = [];
    const silent = createNetServer((socket) => held.push(socket.on('error', () => undefined)));
    const port = Number(process.env.PAAS_DOMAIN_VERIFY_HTTP_PORT);
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.4', resolve));
    try {
      await dns.addA('silent.example.test', ['127.0.0.4']);
      const domain = await claim('silent.example.test', orgA, alice);
      const started = Date.now();
      const res = await h.call('POST', `/v1/domains/${domain.id}/verify`, { method: 'http' }, alice.token);
      const took = Date.now() - started;
      assert.equal(res.status, 422);
      assert.match(res.body.error.message, /could not be fetched from 127.0.0.4:\d+ \(no answer within 5 s\)/);
      assert.ok(took >= 4_500 && took < 8_000, `took ${took} ms`);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('Postgres itself refuses a route on a domain not verified yet, whichever code path writes it', async () => {
    const domain = await claim('db-pending.example.test', orgA, alice);
    await sql(`INSERT INTO route_hosts (domain_id, host, space_id) VALUES ($1, 'x', $2)`, [domain.id, spaceA]);
    await assert.rejects(sql(`INSERT INTO routes (id, space_id, domain_id, host, path) VALUES (gen_random_uuid(), $1, $2, 'x', '')`, [spaceA, domain.id]), /whose control is not verified yet/);
    await sql(`DELETE FROM route_hosts WHERE domain_id = $1`, [domain.id]);
  });

  it('over DNS: a TXT record _paas-verification.<domain> holding the token verifies it', async () => {
    const domain = await claim('txt.example.test', orgA, alice);
    const txt = '_paas-verification.txt.example.test';
    const missing = await h.call('POST', `/v1/domains/${domain.id}/verify`, { method: 'dns' }, alice.token);
    assert.equal(missing.status, 422);
    assert.match(missing.body.error.message, /no TXT record _paas-verification.txt.example.test \(asked 127.0.0.1:\d+\): add one with the value/);
    await dns.setTxt(txt, 'something-else');
    const wrong = await h.call('POST', `/v1/domains/${domain.id}/verify`, { method: 'dns' }, alice.token);
    assert.equal(wrong.status, 422);
    assert.match(wrong.body.error.message, /holds 1 value\(s\), none of them the token/);
    await dns.clearTxt(txt);
    await dns.setTxt(txt, domain.verification.token);
    const verified = expectStatus(await h.call('POST', `/v1/domains/${domain.id}/verify`, { method: 'dns' }, alice.token), 200).body;
    assert.equal(verified.verification.state, 'verified');
    assert.deepEqual(await eventTypes(domain.id), ['domain-verified', 'domain-verification-failed', 'domain-verification-failed', 'domain-created']);
    await dns.clearTxt(txt);
  });

  it('over DNS without PAAS_DNS_RESOLVER: 422 naming it, and no TXT record offered', async () => {
    const domain = await claim('no-resolver.example.test', orgA, alice);
    const saved = process.env.PAAS_DNS_RESOLVER;
    delete process.env.PAAS_DNS_RESOLVER;
    const replica = await h.replica().finally(() => (process.env.PAAS_DNS_RESOLVER = saved));
    try {
      const res = await replica.call('POST', `/v1/domains/${domain.id}/verify`, { method: 'dns' }, alice.token);
      assert.equal(res.status, 422);
      assert.match(res.body.error.message, /DNS verification is off on this platform: the operator enables it by setting PAAS_DNS_RESOLVER/);
      const view = expectStatus(await replica.call('GET', `/v1/domains/${domain.id}`, undefined, alice.token), 200).body;
      assert.equal(view.verification.dns_record, null);
      assert.ok(view.verification.http_url);
    } finally {
      await replica.close();
    }
  });
});

describe('deleting a private domain', () => {
  it('its org manager may, once no route uses it; developers may not, other orgs do not see it', async () => {
    const domain = await claim('gone.example.test', orgA, alice);
    expectStatus(await h.call('DELETE', `/v1/domains/${domain.id}`, undefined, dave.token), 403);
    expectStatus(await h.call('DELETE', `/v1/domains/${domain.id}`, undefined, bob.token), 404);
    expectStatus(await h.call('DELETE', `/v1/domains/${domain.id}`, undefined, alice.token), 204);
    assert.equal(await publishedToken('gone.example.test', domain.verification.token), undefined);
    const used = expectStatus(await h.call('GET', '/v1/domains?names=web.example.test', undefined, alice.token), 200).body.resources[0];
    const refused = await h.call('DELETE', `/v1/domains/${used.id}`, undefined, alice.token);
    assert.equal(refused.status, 422);
    assert.match(refused.body.error.message, /still has 1 route\(s\)/);
  });
});

describe("a route's HTTPS settings", () => {
  let routeId: string;
  before(async () => {
    routeId = expectStatus(await h.call('POST', '/v1/routes', { host: 'secure', domain_id: await defaultDomainId(h), space_id: spaceA }, dave.token), 201).body.id;
  });

  it('PATCH https_redirect and hsts_max_age: in the view, in GET, in the Redis entry the routers read; route-updated', async () => {
    const fresh = expectStatus(await h.call('GET', `/v1/routes/${routeId}`, undefined, vera.token), 200).body;
    assert.deepEqual([fresh.https_redirect, fresh.hsts_max_age], [false, null]);
    const patched = expectStatus(await h.call('PATCH', `/v1/routes/${routeId}`, { https_redirect: true, hsts_max_age: 31_536_000 }, dave.token), 200).body;
    routeViewSchema.parse(patched);
    assert.deepEqual([patched.https_redirect, patched.hsts_max_age], [true, 31_536_000]);
    const got = expectStatus(await h.call('GET', `/v1/routes/${routeId}`, undefined, vera.token), 200).body;
    assert.deepEqual([got.https_redirect, got.hsts_max_age], [true, 31_536_000]);
    const [entry] = await listHostRoutes(redis, keys, 'secure.apps.localhost');
    assert.deepEqual([entry?.httpsRedirect, entry?.hstsMaxAge], [true, 31_536_000]);
    // Only hsts_max_age: https_redirect stays.
    expectStatus(await h.call('PATCH', `/v1/routes/${routeId}`, { hsts_max_age: null }, dave.token), 200);
    const [after] = await listHostRoutes(redis, keys, 'secure.apps.localhost');
    assert.equal(after?.httpsRedirect, true);
    assert.equal('hstsMaxAge' in (after ?? {}), false);
    expectStatus(await h.call('PATCH', `/v1/routes/${routeId}`, { https_redirect: false }, dave.token), 200);
    const [off] = await listHostRoutes(redis, keys, 'secure.apps.localhost');
    assert.equal('httpsRedirect' in (off ?? {}), false);
    const events = expectStatus(await h.call('GET', `/v1/events?types=route-updated&target_id=${routeId}`), 200).body.resources;
    assert.deepEqual(events.map((e: { data: unknown }) => e.data), [{ https_redirect: false }, { hsts_max_age: null }, { https_redirect: true, hsts_max_age: 31_536_000 }]);
  });

  it('400 names the field and the rule for bad values', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ hsts_max_age: -1 }, 'hsts_max_age', /from 0 to 63072000/],
      [{ hsts_max_age: 63_072_001 }, 'hsts_max_age', /from 0 to 63072000/],
      [{ hsts_max_age: 1.5 }, 'hsts_max_age', /whole number/],
      [{ hsts_max_age: '300' }, 'hsts_max_age', /whole number/],
      [{ https_redirect: 'yes' }, 'https_redirect', /true or false/],
      [{ https: true }, '(body)', /https/],
    ];
    for (const [body, field, rule] of cases) {
      const res = await h.call('PATCH', `/v1/routes/${routeId}`, body, dave.token);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 'validation-failed');
      const detail = res.body.error.details.find((d: { field: string }) => d.field === field);
      assert.ok(detail, `${field} named in ${JSON.stringify(res.body)}`);
      assert.match(`${detail.rule} ${res.body.error.message}`, rule);
    }
  });

  it('a viewer of the space is refused (403), another space does not see the route (404)', async () => {
    const viewer = await h.call('PATCH', `/v1/routes/${routeId}`, { https_redirect: true }, vera.token);
    assert.equal(viewer.status, 403);
    assert.match(viewer.body.error.message, /viewer/);
    expectStatus(await h.call('PATCH', `/v1/routes/${routeId}`, { https_redirect: true }, bob.token), 404);
    assert.equal(expectStatus(await h.call('GET', `/v1/routes/${routeId}`), 200).body.https_redirect, false);
  });
});
