/**
 * Certificates against the real controller on a private Postgres and Redis: upload validation
 * (each refusal with its code), roles and org boundaries, the key never shown, the projection into
 * Redis (published, withdrawn, repaired after a loss, expired), and the local CA with its platform
 * certificate, served over a real TLS handshake and kept across a second boot.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, connect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { redisKeys, type CertificateEntry } from '@paas/contracts';
import { pollUntil } from '@paas/local-services';
import { openSecret, readCertificates } from '@paas/redis';
import { startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { createOrg, createSpace, createUser, expectStatus, grant, type TestUser } from '../testing/tenancy-fixtures';
import { importKey, x509 } from './x509-issue.util';
import { eventTypes, insertDomain, testIntermediate, testLeaf, testRoot, writeSecretKey, type TestCa } from '../testing/test-certificates';

let h: ControllerHarness;
let pg: Client;
let redis: Redis;
let dir: string;
let secretKey: Buffer;
let root: TestCa;
let inter: TestCa;
let adminA: TestUser; // space admin in org A
let devA: TestUser;
let viewerA: TestUser;
let adminB: TestUser; // space admin in org B

const entries = () => readCertificates(redis, redisKeys(h.redisPrefix));

async function upload(chain: string, key: string, token?: string) {
  return h.call('POST', '/v1/certificates', { source: 'upload', certificate_chain: chain, private_key: key }, token);
}

function expectRefused(res: { status: number; body: { error?: { code?: string; message?: string } } }, code: string, message: RegExp): void {
  assert.equal(res.status, 422, JSON.stringify(res.body));
  assert.equal(res.body.error?.code, code, JSON.stringify(res.body));
  assert.match(res.body.error?.message ?? '', message);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paas-certs-test-'));
  const secret = await writeSecretKey(dir);
  secretKey = secret.key;
  h = await startControllerHarness({ PAAS_SECRET_KEY_FILE: secret.file, PAAS_LOCAL_CA_DIR: join(dir, 'ca') });
  pg = new Client({ connectionString: h.databaseUrl });
  await pg.connect();
  redis = new Redis(h.redisUrl);
  const orgA = await createOrg(h, 'org-a');
  const orgB = await createOrg(h, 'org-b');
  const spaceA = await createSpace(h, orgA, 'a');
  const spaceB = await createSpace(h, orgB, 'b');
  adminA = await createUser(h, 'admin-a');
  devA = await createUser(h, 'dev-a');
  viewerA = await createUser(h, 'viewer-a');
  adminB = await createUser(h, 'admin-b');
  await grant(h, spaceA, adminA, 'admin');
  await grant(h, spaceA, devA, 'developer');
  await grant(h, spaceA, viewerA, 'viewer');
  await grant(h, spaceB, adminB, 'admin');
  await insertDomain(pg, 'shop-a.test', orgA);
  await insertDomain(pg, 'pending-a.test', orgA, false);
  await insertDomain(pg, 'shop-b.test', orgB);
  root = await testRoot();
  inter = await testIntermediate(root);
});

after(async () => {
  redis?.disconnect();
  await pg?.end();
  await h?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('certificate upload', () => {
  it('a space admin of the org uploads a full chain: issued, published sealed, the key never shown', async () => {
    const leaf = await testLeaf(inter, ['www.shop-a.test', 'shop-a.test']);
    const res = expectStatus(await upload(leaf.pem + inter.pem + root.pem, leaf.keyPem, adminA.token), 201);
    const cert = res.body;
    assert.deepEqual([cert.source, cert.state, cert.names, cert.issuer, cert.renews_at], ['upload', 'issued', ['www.shop-a.test', 'shop-a.test'], 'CN=Test Intermediate CA', null]);
    assert.equal(new Date(cert.not_after).getTime(), new X509Certificate(leaf.pem).validToDate.getTime());
    const entry = (await entries()).get(cert.id) as CertificateEntry;
    assert.ok(entry, 'published for the routers');
    assert.deepEqual(entry.names, cert.names);
    assert.ok(!entry.keySealed.includes('PRIVATE KEY'), 'Redis holds the key sealed');
    const opened = createPrivateKey(openSecret(secretKey, entry.keySealed));
    assert.ok(new X509Certificate(entry.chainPem).checkPrivateKey(opened), 'the sealed key opens to the leaf\'s key');
    assert.equal(entry.chainPem.match(/BEGIN CERTIFICATE/g)?.length, 2, 'served: leaf and intermediate, the root left out');
    const sealedInDb = (await pg.query<{ key_sealed: string }>('SELECT key_sealed FROM certificates WHERE id = $1', [cert.id])).rows[0]!.key_sealed;
    for (const answer of [res, await h.call('GET', `/v1/certificates/${cert.id}`, undefined, viewerA.token), await h.call('GET', '/v1/certificates', undefined, viewerA.token)]) {
      const text = JSON.stringify(answer.body);
      assert.ok(!text.includes('PRIVATE KEY') && !text.includes(sealedInDb) && !text.includes('BEGIN CERTIFICATE'), `no key in ${text.slice(0, 200)}`);
      assert.ok(!/key|chain/.test(Object.keys(answer.body.resources?.[0] ?? answer.body).join(',')), 'no key or chain field');
    }
    assert.deepEqual(await eventTypes(pg, cert.id), ['certificate-created']);
  });

  it('a wildcard certificate for the org\'s domain is accepted; a certificate named by its CN alone too', async () => {
    const wildcard = await testLeaf(inter, ['*.shop-a.test']);
    assert.deepEqual(expectStatus(await upload(wildcard.pem + inter.pem + root.pem, wildcard.keyPem.replace(/\n/g, '\r\n'), adminA.token), 201).body.names, ['*.shop-a.test']);
    const cnOnly = await testLeaf(inter, ['cn.shop-a.test'], { cnOnly: true });
    assert.deepEqual(expectStatus(await upload(cnOnly.pem + inter.pem + root.pem, cnOnly.keyPem, adminA.token), 201).body.names, ['cn.shop-a.test']);
  });

  it('each invalid upload is a 422 with its code and the fix', async () => {
    const leaf = await testLeaf(inter, ['api.shop-a.test']);
    const other = await testLeaf(inter, ['api.shop-a.test']);
    expectRefused(await upload(leaf.pem + inter.pem + root.pem, other.keyPem, adminA.token), 'certificate-key-mismatch', /not the key of the certificate/);
    expectRefused(await upload(leaf.pem, leaf.keyPem, adminA.token), 'certificate-chain-incomplete', /not a root the platform trusts: add the intermediate/);
    expectRefused(await upload(leaf.pem + root.pem, leaf.keyPem, adminA.token), 'certificate-chain-incomplete', /certificate 1 .* is not signed by certificate 2/);
    expectRefused(await upload(root.pem + leaf.pem, leaf.keyPem, adminA.token), 'certificate-key-mismatch', /not the key/);
    const expired = await testLeaf(inter, ['old.shop-a.test'], { fromDays: -100, toDays: -1 });
    expectRefused(await upload(expired.pem + inter.pem + root.pem, expired.keyPem, adminA.token), 'certificate-expired', /expired at .*renew it/);
    const future = await testLeaf(inter, ['new.shop-a.test'], { fromDays: 2, toDays: 90 });
    expectRefused(await upload(future.pem + inter.pem + root.pem, future.keyPem, adminA.token), 'certificate-not-yet-valid', /not valid before/);
    const weak = await testLeaf(inter, ['weak.shop-a.test'], { key: { type: 'rsa', bits: 1024 } });
    expectRefused(await upload(weak.pem + inter.pem + root.pem, weak.keyPem, adminA.token), 'certificate-weak-key', /RSA 1024 bits.*2048/);
    expectRefused(await upload('not a certificate', leaf.keyPem, adminA.token), 'certificate-unreadable', /no PEM certificate/);
    expectRefused(await upload(leaf.pem, 'not a key', adminA.token), 'certificate-unreadable', /not a PEM private key/);
    const unknown = await testLeaf(inter, ['www.elsewhere.test']);
    expectRefused(await upload(unknown.pem + inter.pem + root.pem, unknown.keyPem, adminA.token), 'certificate-name-refused', /www\.elsewhere\.test is on no domain/);
    const pending = await testLeaf(inter, ['www.pending-a.test']);
    expectRefused(await upload(pending.pem + inter.pem + root.pem, pending.keyPem, adminA.token), 'certificate-name-refused', /not verified yet: prove control/);
    const otherOrg = await testLeaf(inter, ['www.shop-b.test']);
    expectRefused(await upload(otherOrg.pem + inter.pem + root.pem, otherOrg.keyPem, adminA.token), 'certificate-name-refused', /www\.shop-b\.test is on domain shop-b\.test, which another org holds/);
    const mixed = await testLeaf(inter, ['www.shop-a.test', 'www.shop-b.test']);
    expectRefused(await upload(mixed.pem + inter.pem + root.pem, mixed.keyPem), 'certificate-name-refused', /different owners/);
    const shared = await testLeaf(inter, ['x.apps.localhost']);
    expectRefused(await upload(shared.pem + inter.pem + root.pem, shared.keyPem, adminA.token), 'certificate-name-refused', /shared domain apps\.localhost: only platform admins/);
    expectStatus(await upload(shared.pem + inter.pem + root.pem, shared.keyPem), 201, 'a platform admin uploads one for a shared domain');
  });

  it('developers and viewers may not upload; another org neither sees nor deletes them', async () => {
    const leaf = await testLeaf(inter, ['dev.shop-a.test']);
    for (const user of [devA, viewerA]) {
      const res = await upload(leaf.pem + inter.pem + root.pem, leaf.keyPem, user.token);
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.match(res.body.error.message, /needs the admin role in a space of the org/);
    }
    const own = expectStatus(await upload(leaf.pem + inter.pem + root.pem, leaf.keyPem, adminA.token), 201).body;
    const seenByB = expectStatus(await h.call('GET', '/v1/certificates', undefined, adminB.token), 200).body.resources as Array<{ id: string; org_id: string | null }>;
    assert.ok(seenByB.every((c) => c.org_id === null), 'org B sees only the platform\'s own');
    expectStatus(await h.call('GET', `/v1/certificates/${own.id}`, undefined, adminB.token), 404);
    expectStatus(await h.call('DELETE', `/v1/certificates/${own.id}`, undefined, adminB.token), 404);
    expectStatus(await h.call('DELETE', `/v1/certificates/${own.id}`, undefined, devA.token), 403);
    const filtered = expectStatus(await h.call('GET', '/v1/certificates?names=dev.shop-a.test', undefined, devA.token), 200).body;
    assert.deepEqual(filtered.resources.map((c: { id: string }) => c.id), [own.id]);
    assert.equal(filtered.pagination.total_results, 1);
    expectStatus(await h.call('DELETE', `/v1/certificates/${own.id}`, undefined, adminA.token), 204);
    expectStatus(await h.call('GET', `/v1/certificates/${own.id}`, undefined, adminA.token), 404);
    assert.equal((await entries()).has(own.id), false, 'withdrawn from Redis');
    assert.deepEqual(await eventTypes(pg, own.id), ['certificate-created', 'certificate-deleted']);
  });

  it('an ACME order without PAAS_ACME_DIRECTORY_URL is refused naming the variable', async () => {
    const res = await h.call('POST', '/v1/certificates', { source: 'acme', names: ['www.shop-a.test'] }, adminA.token);
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'not-configured');
    assert.match(res.body.error.message, /PAAS_ACME_DIRECTORY_URL/);
  });
});

describe('projection', () => {
  it('the leader republishes every certificate after Redis lost them, and withdraws one that expired', async () => {
    const leaf = await testLeaf(inter, ['soon.shop-a.test']);
    const cert = expectStatus(await upload(leaf.pem + inter.pem + root.pem, leaf.keyPem, adminA.token), 201).body;
    const before = await entries();
    await redis.del(redisKeys(h.redisPrefix).certificates);
    const back = await pollUntil('the certificates back in Redis', async () => ((await entries()).size === before.size ? entries() : undefined), { timeoutMs: 15_000 });
    assert.deepEqual([...back.keys()].sort(), [...before.keys()].sort());
    await pg.query(`UPDATE certificates SET not_after = now() - interval '1 second' WHERE id = $1`, [cert.id]);
    await pollUntil('the expired certificate withdrawn', async () => !(await entries()).has(cert.id), { timeoutMs: 15_000 });
    const view = expectStatus(await h.call('GET', `/v1/certificates/${cert.id}`, undefined, adminA.token), 200).body;
    assert.equal(view.state, 'expired');
    assert.deepEqual(await eventTypes(pg, cert.id), ['certificate-created', 'certificate-expired']);
  });
});

function handshake(port: number, servername: string, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('local CA', () => {
  it('makes ca.pem and a 0600 ca-key.pem, and a platform certificate for the apps domain that verifies with ca.pem', async () => {
    const caPem = await readFile(join(dir, 'ca', 'ca.pem'), 'utf8');
    assert.equal((await stat(join(dir, 'ca', 'ca-key.pem'))).mode & 0o777, 0o600);
    const ca = new X509Certificate(caPem);
    assert.match(ca.subject, /CN=PaaS local CA \(.+\)/);
    assert.ok(ca.validToDate.getTime() - Date.now() > 9 * 365 * 86_400_000, 'ten years');
    const platform = (expectStatus(await h.call('GET', '/v1/certificates', undefined, viewerA.token), 200).body.resources as Array<{ id: string; source: string; org_id: string | null; names: string[]; state: string; renews_at: string | null }>).filter((c) => c.source === 'platform');
    assert.equal(platform.length, 1);
    assert.deepEqual([platform[0]!.org_id, platform[0]!.names, platform[0]!.state], [null, ['*.apps.localhost', 'apps.localhost'], 'issued']);
    assert.ok(platform[0]!.renews_at, 'the platform renews it');
    const entry = await pollUntil('the platform certificate in Redis', async () => (await entries()).get(platform[0]!.id));
    const server = createServer({ cert: entry.chainPem, key: openSecret(secretKey, entry.keySealed) }, (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      for (const host of ['myapp.apps.localhost', 'apps.localhost']) {
        const socket = await handshake(port, host, caPem);
        assert.equal(socket.authorized, true, `${host} verifies with ca.pem`);
        socket.destroy();
      }
      await assert.rejects(handshake(port, 'a.b.apps.localhost', caPem), /does not match|altnames/i, 'the wildcard covers one label');
    } finally {
      server.close();
    }
  });

  it('an upload issued by the local CA is trusted; a second boot keeps the CA and the platform certificate', async () => {
    const caPem = await readFile(join(dir, 'ca', 'ca.pem'), 'utf8');
    const localCa = { certificate: new x509.X509Certificate(caPem), key: await importKey(await readFile(join(dir, 'ca', 'ca-key.pem'), 'utf8')), pem: caPem };
    const local = await testLeaf(localCa, ['local.shop-a.test']);
    expectStatus(await upload(local.pem, local.keyPem, adminA.token), 201, 'a leaf of the local CA alone: the CA is a trusted root');
    const platformBefore = (await pg.query<{ id: string }>(`SELECT id FROM certificates WHERE source = 'platform'`)).rows;
    const replica = await h.replica();
    try {
      assert.equal(await readFile(join(dir, 'ca', 'ca.pem'), 'utf8'), caPem, 'the CA is reused');
      const platformAfter = (await pg.query<{ id: string }>(`SELECT id FROM certificates WHERE source = 'platform'`)).rows;
      assert.deepEqual(platformAfter, platformBefore, 'the platform certificate is kept');
    } finally {
      await replica.close();
    }
  });

  it('a platform certificate within the renewal window is replaced by a new one from the same CA', async () => {
    const [old] = (await pg.query<{ id: string }>(`SELECT id FROM certificates WHERE source = 'platform'`)).rows;
    await pg.query(`UPDATE certificates SET not_after = now() + interval '1 day' WHERE id = $1`, [old!.id]);
    const fresh = await pollUntil('a new platform certificate', async () => {
      const rows = (await pg.query<{ id: string; not_after: Date }>(`SELECT id, not_after FROM certificates WHERE source = 'platform'`)).rows;
      return rows.length === 1 && rows[0]!.id !== old!.id ? rows[0] : undefined;
    }, { timeoutMs: 15_000 });
    assert.ok(fresh.not_after.getTime() - Date.now() > 300 * 86_400_000);
    const served = await pollUntil('the new one served, the old one withdrawn', async () => {
      const all = await entries();
      return all.has(fresh.id) && !all.has(old!.id) ? all.get(fresh.id) : undefined;
    }, { timeoutMs: 15_000 });
    const ca = new X509Certificate(await readFile(join(dir, 'ca', 'ca.pem'), 'utf8'));
    assert.ok(new X509Certificate(served.chainPem).verify(ca.publicKey), 'issued by the same CA');
    assert.deepEqual(await eventTypes(pg, fresh.id), ['certificate-renewed']);
  });
});
