/**
 * The router's TLS listener against a real redis-server: certificates published as the
 * controller does (hash `certificates`, keys sealed with the platform key), made by a test CA
 * with openssl. SNI choice, changes without a restart, TLS versions, session resumption.
 */
import { withdrawCertificate } from '@paas/redis';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { handshake, startHttpsFixture, waitForHandshake, type Handshake, type HttpsFixture } from './https-test-support';

const served = (h: Handshake) => (h.ok ? h.serial : `failed:${h.code}`);

describe('router TLS listener: certificates by SNI', () => {
  let f: HttpsFixture;

  before(async () => {
    f = await startHttpsFixture();
  });
  after(async () => {
    await f?.close();
  });

  it('serves the certificate naming the host, and the wildcard one label up only', async () => {
    const exact = f.ca.issue(['a.test']);
    const wildcard = f.ca.issue(['*.w.test']);
    await f.publish('exact', ['a.test'], exact);
    await f.publish('wildcard', ['*.w.test'], wildcard);

    const a = await waitForHandshake(f.httpsPort, 'a.test', f.ca.caPem, 'a.test to be served', (h) => h.ok);
    assert.ok(a.ok && a.subjectAltName === 'DNS:a.test', `a.test got ${JSON.stringify(a)}`);
    assert.equal(served(a), exact.serial);
    const w = await waitForHandshake(f.httpsPort, 'x.w.test', f.ca.caPem, 'x.w.test to be served', (h) => h.ok);
    assert.equal(served(w), wildcard.serial, 'the wildcard covers one label');
    assert.ok(w.ok && w.subjectAltName === 'DNS:*.w.test');
    // The client verified the chain against the test CA for that name (tls.connect checks both).
    const deeper = await handshake(f.httpsPort, 'y.x.w.test', f.ca.caPem);
    assert.equal(deeper.ok, false, 'a wildcard never covers two labels');
    assert.ok(!deeper.ok && /HANDSHAKE_FAILURE/.test(deeper.code), `refused with a handshake failure alert, got ${served(deeper)}`);
    const bare = await handshake(f.httpsPort, 'w.test', f.ca.caPem);
    assert.equal(bare.ok, false, '*.w.test does not cover w.test itself');
  });

  it('fails the handshake without SNI, and counts it', async () => {
    const noSni = await handshake(f.httpsPort, undefined, f.ca.caPem);
    assert.ok(!noSni.ok && /HANDSHAKE_FAILURE/.test(noSni.code), `no SNI: ${served(noSni)}`);
    const metrics = await f.router.metrics.registry.getSingleMetricAsString('paas_router_tls_handshake_failures_total');
    assert.match(metrics, /reason="no-certificate"\} [1-9]/);
  });

  it('of two certificates for a host serves the one that expires last, and never an expired one', async () => {
    const sooner = f.ca.issue(['two.test'], Date.now() - 3_600_000, Date.now() + 2 * 86_400_000);
    const later = f.ca.issue(['two.test'], Date.now() - 3_600_000, Date.now() + 3 * 86_400_000);
    await f.publish('two-later', ['two.test'], later);
    await f.publish('two-sooner', ['two.test'], sooner);
    const expired = f.ca.issue(['old.test'], Date.now() - 3 * 86_400_000, Date.now() - 86_400_000);
    await f.publish('old', ['old.test'], expired);
    // The exact one expired: a valid wildcard covering the host is served instead.
    const wildcard = f.ca.issue(['*.fallback.test']);
    const expiredExact = f.ca.issue(['x.fallback.test'], Date.now() - 3 * 86_400_000, Date.now() - 86_400_000);
    await f.publish('fallback-wild', ['*.fallback.test'], wildcard);
    await f.publish('fallback-exact', ['x.fallback.test'], expiredExact);

    const two = await waitForHandshake(f.httpsPort, 'two.test', f.ca.caPem, 'two.test to be served', (h) => h.ok);
    assert.equal(served(two), later.serial, 'the one that expires last');
    const fallback = await waitForHandshake(f.httpsPort, 'x.fallback.test', f.ca.caPem, 'x.fallback.test to be served', (h) => h.ok);
    assert.equal(served(fallback), wildcard.serial);
    const old = await handshake(f.httpsPort, 'old.test', f.ca.caPem, { rejectUnauthorized: false });
    assert.equal(old.ok, false, `an expired certificate is not served: ${served(old)}`);
  });

  it('takes a replaced certificate for new handshakes without a restart, and a removal', async () => {
    const first = f.ca.issue(['swap.test']);
    const second = f.ca.issue(['swap.test']);
    await f.publish('swap', ['swap.test'], first);
    await waitForHandshake(f.httpsPort, 'swap.test', f.ca.caPem, 'the first certificate', (h) => served(h) === first.serial);
    await f.publish('swap', ['swap.test'], second);
    await waitForHandshake(f.httpsPort, 'swap.test', f.ca.caPem, 'the replacement to be served', (h) => served(h) === second.serial);
    await withdrawCertificate(f.redis, f.keys, 'swap');
    await waitForHandshake(f.httpsPort, 'swap.test', f.ca.caPem, 'the withdrawn certificate to go', (h) => !h.ok);
  });

  it('skips an entry whose key does not open with the platform key, serving the others', async () => {
    const good = f.ca.issue(['skip.test']);
    await f.redis.hset(f.keys.certificates, 'bad', JSON.stringify({ id: 'bad', names: ['bad.test'], chainPem: good.chainPem, keySealed: 'v1.AAAA.AAAA.AAAA', notAfter: good.notAfter }));
    await f.publish('skip', ['skip.test'], good);
    await waitForHandshake(f.httpsPort, 'skip.test', f.ca.caPem, 'the good certificate beside the bad one', (h) => served(h) === good.serial);
    assert.equal((await handshake(f.httpsPort, 'bad.test', f.ca.caPem)).ok, false);
  });

  it('speaks TLS 1.2 and 1.3, and refuses TLS 1.1 with a protocol-version alert', async () => {
    const cert = f.ca.issue(['ver.test']);
    await f.publish('ver', ['ver.test'], cert);
    const v13 = await waitForHandshake(f.httpsPort, 'ver.test', f.ca.caPem, 'ver.test', (h) => h.ok);
    assert.ok(v13.ok && v13.protocol === 'TLSv1.3');
    const v12 = await handshake(f.httpsPort, 'ver.test', f.ca.caPem, { maxVersion: 'TLSv1.2' });
    assert.ok(v12.ok && v12.protocol === 'TLSv1.2', `TLS 1.2: ${JSON.stringify(v12)}`);
    // The client offers TLS 1.0/1.1 only (security level 0 so that it may): the server says no.
    const v11 = await handshake(f.httpsPort, 'ver.test', f.ca.caPem, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
    assert.ok(!v11.ok && /PROTOCOL_VERSION/.test(v11.code), `TLS 1.1: ${served(v11)}`);
  });

  it('resumes sessions by ticket, also at another router sharing the platform key (TLS 1.3 and 1.2)', async () => {
    const cert = f.ca.issue(['resume.test']);
    await f.publish('resume', ['resume.test'], cert);
    await waitForHandshake(f.httpsPort, 'resume.test', f.ca.caPem, 'resume.test', (h) => h.ok);
    const other = await f.startAnother();
    await waitForHandshake(other.httpsPort!, 'resume.test', f.ca.caPem, 'resume.test at the other router', (h) => h.ok);
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
      const first = await handshake(f.httpsPort, 'resume.test', f.ca.caPem, { maxVersion, waitForSession: true });
      assert.ok(first.ok && !first.reused && first.session, `${maxVersion} first: ${JSON.stringify(first)}`);
      const again = await handshake(f.httpsPort, 'resume.test', f.ca.caPem, { maxVersion, session: first.session });
      assert.ok(again.ok && again.reused, `${maxVersion}: the second connection resumes`);
      const elsewhere = await handshake(other.httpsPort!, 'resume.test', f.ca.caPem, { maxVersion, session: first.session });
      assert.ok(elsewhere.ok && elsewhere.reused, `${maxVersion}: another router resumes it too`);
    }
  });
});
