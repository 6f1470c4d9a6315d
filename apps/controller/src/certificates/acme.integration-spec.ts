/**
 * ACME end to end against a real pebble: the controller orders a certificate, pebble's HTTP-01
 * validation reaches a loopback responder that answers from the well-known answers in Redis (as
 * the routers do), the certificate is issued, published and renewed before it expires; a
 * responder that answers wrong or is down makes the order fail with pebble's reason, retried with
 * backoff until it succeeds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { redisKeys, wellKnownField } from '@paas/contracts';
import { freePort, pollUntil } from '@paas/local-services';
import { openSecret, readCertificates, readWellKnownAnswers } from '@paas/redis';
import { startPebble, type Pebble } from '@paas/testing';
import { startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { createOrg, createSpace, createUser, expectStatus, grant, type TestUser } from '../testing/tenancy-fixtures';
import { eventTypes, insertDomain, writeSecretKey } from '../testing/test-certificates';
import { pemBlocks } from './certificate-pem.util';

let h: ControllerHarness;
let pg: Client;
let redis: Redis;
let pebble: Pebble;
let dir: string;
let secretKey: Buffer;
let manager: TestUser;
let responderPort: number;
let responder: Server | undefined;
/** What the responder does: answer from Redis, or answer something else. */
let mode: 'redis' | 'wrong' = 'redis';

const TIMEOUT = { timeoutMs: 60_000, intervalMs: 250 };

/** The routers' part of HTTP-01, in small: GET /.well-known/... answered from the well-known hash. */
async function startResponder(): Promise<void> {
  const keys = redisKeys(h.redisPrefix);
  const server = createServer((req, res) => {
    void (async () => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const answer = (await readWellKnownAnswers(redis, keys)).get(wellKnownField(host, req.url ?? ''));
      if (!answer) return res.writeHead(404).end('no answer');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(mode === 'wrong' ? 'not-the-key-authorization' : answer.body);
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(responderPort, '127.0.0.1', resolve));
  responder = server;
}

async function stopResponder(): Promise<void> {
  const server = responder;
  responder = undefined;
  if (server) await new Promise((resolve) => server.close(resolve));
}

interface View {
  id: string;
  state: string;
  names: string[];
  issuer: string | null;
  not_after: string | null;
  last_error: string | null;
  next_attempt_at: string | null;
  attempts: number;
}

async function view(id: string): Promise<View> {
  return expectStatus(await h.call('GET', `/v1/certificates/${id}`, undefined, manager.token), 200).body;
}

async function order(names: string[]): Promise<View> {
  return expectStatus(await h.call('POST', '/v1/certificates', { source: 'acme', names }, manager.token), 201, `order ${names}`).body;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paas-acme-test-'));
  const secret = await writeSecretKey(dir);
  secretKey = secret.key;
  responderPort = await freePort();
  pebble = await startPebble({ httpPort: responderPort, certificateValidityPeriodS: 30 });
  h = await startControllerHarness({
    PAAS_SECRET_KEY_FILE: secret.file,
    PAAS_ACME_DIRECTORY_URL: pebble.directoryUrl,
    PAAS_ACME_CA_FILE: pebble.caFile,
    PAAS_ACME_EMAIL: 'ops@acme-a.test',
    PAAS_CERT_RENEW_BEFORE_S: '20',
    PAAS_ACME_RETRY_BASE_S: '2',
  });
  pg = new Client({ connectionString: h.databaseUrl });
  await pg.connect();
  redis = new Redis(h.redisUrl);
  const org = await createOrg(h, 'acme-org');
  const space = await createSpace(h, org, 'web');
  manager = await createUser(h, 'manager');
  await grant(h, space, manager, 'admin');
  await insertDomain(pg, 'acme-a.test', org);
  await startResponder();
});

after(async () => {
  await stopResponder();
  redis?.disconnect();
  await pg?.end();
  await h?.stop();
  await pebble?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ACME', () => {
  it('refuses a wildcard with the reason', async () => {
    const res = await h.call('POST', '/v1/certificates', { source: 'acme', names: ['*.acme-a.test'] }, manager.token);
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'certificate-name-refused');
    assert.match(res.body.error.message, /HTTP-01, which cannot prove a wildcard.*upload/);
  });

  it('orders a certificate through HTTP-01, publishes it, then renews it before it expires', async () => {
    const pending = await order(['www.acme-a.test', 'acme-a.test']);
    assert.deepEqual([pending.state, pending.not_after], ['pending', null]);
    const issued = await pollUntil('the certificate issued', async () => {
      const v = await view(pending.id);
      return v.state === 'issued' ? v : undefined;
    }, TIMEOUT);
    assert.match(issued.issuer ?? '', /Pebble Intermediate/);
    assert.equal(issued.last_error, null);
    const entry = (await readCertificates(redis, redisKeys(h.redisPrefix))).get(pending.id);
    assert.ok(entry, 'published');
    const [leaf, intermediate] = pemBlocks(entry.chainPem).map((p) => new X509Certificate(p));
    assert.ok(leaf && intermediate, 'leaf and intermediate');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(openSecret(secretKey, entry.keySealed))), 'the sealed key is the leaf\'s');
    const pebbleRoot = new X509Certificate(await pebble.issuingRoot());
    assert.ok(leaf.verify(intermediate.publicKey) && intermediate.verify(pebbleRoot.publicKey), 'chains to pebble\'s root');
    assert.match(leaf.subjectAltName ?? '', /DNS:www\.acme-a\.test/);
    assert.equal((await readWellKnownAnswers(redis, redisKeys(h.redisPrefix))).size, 0, 'the challenge answer is cleared');
    assert.equal(await redis.hlen(redisKeys(h.redisPrefix).wellKnown), 0);

    const renewed = await pollUntil('the certificate renewed', async () => {
      const v = await view(pending.id);
      return v.not_after && new Date(v.not_after) > new Date(issued.not_after!) ? v : undefined;
    }, TIMEOUT);
    assert.equal(renewed.state, 'issued');
    const republished = (await readCertificates(redis, redisKeys(h.redisPrefix))).get(pending.id);
    assert.equal(republished?.notAfter, new Date(renewed.not_after!).getTime(), 'the renewed one is served');
    const events = await eventTypes(pg, pending.id);
    assert.deepEqual(events.slice(0, 3), ['certificate-created', 'certificate-issued', 'certificate-renewed']);
    expectStatus(await h.call('DELETE', `/v1/certificates/${pending.id}`, undefined, manager.token), 204);
  });

  it('a wrong answer fails the order with pebble\'s reason; it is retried with backoff and issued once the answer is right', async () => {
    mode = 'wrong';
    const pending = await order(['wrong.acme-a.test']);
    const failed = await pollUntil('the order failed', async () => {
      const v = await view(pending.id);
      return v.state === 'failed' ? v : undefined;
    }, TIMEOUT);
    assert.match(failed.last_error ?? '', /key authorization|not-the-key-authorization/i);
    assert.ok(failed.attempts >= 1);
    assert.ok(failed.next_attempt_at && new Date(failed.next_attempt_at) > new Date(Date.now() - 60_000), 'next attempt set');
    assert.ok((await eventTypes(pg, pending.id)).includes('certificate-failed'));
    assert.equal((await readCertificates(redis, redisKeys(h.redisPrefix))).has(pending.id), false, 'nothing served');
    mode = 'redis';
    const issued = await pollUntil('the retry issued', async () => {
      const v = await view(pending.id);
      return v.state === 'issued' ? v : undefined;
    }, TIMEOUT);
    assert.deepEqual([issued.last_error, issued.attempts, issued.next_attempt_at], [null, 0, null]);
    expectStatus(await h.call('DELETE', `/v1/certificates/${pending.id}`, undefined, manager.token), 204);
  });

  it('a closed port fails the order with the connection\'s reason, and the backoff doubles', async () => {
    await stopResponder();
    try {
      const pending = await order(['down.acme-a.test']);
      const twice = await pollUntil('two failed attempts', async () => {
        const v = await view(pending.id);
        return v.state === 'failed' && v.attempts >= 2 ? v : undefined;
      }, TIMEOUT);
      assert.match(twice.last_error ?? '', /connection refused/i);
      const rows = (await pg.query<{ updated_at: Date; next_attempt_at: Date }>('SELECT updated_at, next_attempt_at FROM certificates WHERE id = $1', [pending.id])).rows[0]!;
      const delay = rows.next_attempt_at.getTime() - rows.updated_at.getTime();
      assert.ok(delay >= 2 ** (twice.attempts - 1) * 2000 - 50 && delay <= 2 ** (twice.attempts - 1) * 2000 + 1000, `backoff base·2^(attempts−1): ${delay} ms after ${twice.attempts} attempts`);
      expectStatus(await h.call('DELETE', `/v1/certificates/${pending.id}`, undefined, manager.token), 204);
    } finally {
      if (!responder) await startResponder();
    }
  });
});
