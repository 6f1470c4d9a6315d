/**
 * HTTPS end to end (issue 16) on one isolated platform shared by every case, with pebble as the
 * ACME CA and pebble-challtestsrv as the DNS (every name resolves to 127.0.0.1, where the router
 * listens, so pebble's HTTP-01 validation and the domain verification both reach the router):
 * - the platform's own CA: https://NAME.apps.localhost:<https port>/ answers the app over
 *   HTTP/1.1 and HTTP/2 with only ca.pem trusted, and the app sees X-Forwarded-Proto https;
 *   `paas update-route` turns on the redirect (308) and HSTS, and off again;
 * - an org's own domain: its org manager adds shop.example.test, verifies it by HTTP through the
 *   router, maps www on it, `paas enable-ssl www.shop.example.test --wait` orders a certificate
 *   that chains to pebble's root and is served by SNI; the short-lived certificate (40 s) is
 *   renewed 25 s before it ends and new handshakes get the new one; an order whose name does not
 *   resolve (SERVFAIL) fails with its reason; another org cannot claim the domain.
 * Needs the router's TLS listener, the certificates API and ACME, and the domains part, and the
 * pebble harness of libs/testing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, pollUntil } from '@paas/local-services';
import { startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { startPebble, type Pebble } from '@paas/testing';
import { adminCli, api, createOrgManager, pushServerApp, viaRouter } from './test-platform';
import { http2Get, httpsGet, presented } from './tls-client';

const APP = 'tls-echo';
const DOMAIN = 'shop.example.test';
const WWW = `www.${DOMAIN}`;
const VALIDITY_S = 40;
const RENEW_BEFORE_S = 25;
/** Answers JSON: the app's name, the path and the request headers it got. */
const ECHO_SERVER = `
const http = require('node:http');
const name = JSON.parse(process.env.VCAP_APPLICATION || '{}').application_name;
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ app: name, path: req.url, headers: req.headers }));
}).listen(Number(process.env.PORT || 8080));
`;

describe('https: the local CA, own domains and ACME certificates', { timeout: 20 * 60_000 }, () => {
  let platform: TestPlatform;
  let pebble: Pebble | undefined;
  let pebbleError: Error | undefined;
  let work: string;
  let localCa: string;
  let ownerToken: string;
  let rivalToken: string;
  const ok = <T extends { status: number; json: unknown }>(res: T, status: number, what: string): T => {
    assert.equal(res.status, status, `${what}: ${JSON.stringify(res.json)}`);
    return res;
  };
  const appHost = () => `${APP}.${platform.appsDomain}`;
  const echoed = (body: string) => JSON.parse(body) as { app: string; headers: Record<string, string> };
  const needPebble = (): Pebble => {
    if (!pebble) throw pebbleError ?? new Error('pebble did not start');
    return pebble;
  };

  /** A user who is `admin` of a new space of a new org (what "org manager" is here), and their token. */

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-https-'));
    // pebble validates HTTP-01 on the router's HTTP port: chosen first, given to both.
    const routerPort = await freePort();
    try {
      pebble = await startPebble({ httpPort: routerPort, certificateValidityPeriodS: VALIDITY_S });
    } catch (error) {
      pebbleError = error as Error;
    }
    platform = await startIsolatedPlatform(1, {
      routerPort,
      ...(pebble
        ? { acme: { directoryUrl: pebble.directoryUrl, caFile: pebble.caFile, dnsResolver: pebble.dns.address, renewBeforeS: RENEW_BEFORE_S, retryBaseS: 2 } }
        : {}),
    });
    await pollUntil('the controller to make the local CA', async () => existsSync(platform.caFile), { timeoutMs: 30_000 });
    localCa = await readFile(platform.caFile, 'utf8');
    const owner = await createOrgManager(platform, 'shop', 'owner');
    ownerToken = owner.token;
    rivalToken = (await createOrgManager(platform, 'rival', 'rival')).token;
    await pushServerApp(platform, { work, registries: [] }, APP, owner.spaceId, { server: ECHO_SERVER });
    await pollUntil(`${APP} to answer over http`, async () => (await viaRouter(platform, appHost())).status === 200, { timeoutMs: 120_000 });
  });

  after(async () => {
    try {
      const leftovers = platform ? await stopIsolatedPlatform(platform) : [];
      assert.deepEqual(leftovers, [], 'stopping the platform leaves nothing behind');
    } finally {
      await pebble?.stop();
      await rm(work, { recursive: true, force: true });
    }
  });

  test('the local CA: the apps domain answers over HTTPS (HTTP/1.1 and HTTP/2) with only ca.pem trusted; the app sees https', async () => {
    const one = await pollUntil('https to answer the app', async () => {
      const r = await httpsGet(platform.routerHttpsPort, appHost(), localCa).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    }, { timeoutMs: 60_000 });
    assert.equal(one.alpn, 'http/1.1');
    assert.equal(echoed(one.body).app, APP);
    assert.equal(echoed(one.body).headers['x-forwarded-proto'], 'https', 'the app is told the request came over https');
    assert.match(one.certificate.subjectaltname ?? '', /DNS:\*\.apps\.localhost/, 'the platform\'s wildcard certificate');
    const two = await http2Get(platform.routerHttpsPort, appHost(), localCa);
    assert.equal(two.alpn, 'h2');
    assert.equal(two.status, 200);
    assert.equal(echoed(two.body).app, APP);
    assert.equal(echoed(two.body).headers['x-forwarded-proto'], 'https');
    const certs = ok(await api(platform, 'GET', '/v1/certificates'), 200, 'certificates').json.resources as Array<{ source: string; state: string; names: string[] }>;
    assert.ok(certs.some((c) => c.source === 'platform' && c.state === 'issued' && c.names.includes('*.apps.localhost')), JSON.stringify(certs));
  });

  test('update-route turns on the redirect to https (308) and HSTS, and off again', async () => {
    const cli = adminCli(platform, work);
    assert.match(await cli.ok(['update-route', appHost(), '--https-redirect', '--hsts', '300']), /https redirect on, HSTS max-age 300/);
    const redirected = await pollUntil('http to redirect', async () => {
      const r = await viaRouter(platform, appHost(), '/x?y=1');
      return r.status === 308 ? r : undefined;
    }, { timeoutMs: 15_000 });
    assert.equal(redirected.headers.get('location'), `https://${appHost()}:${platform.routerHttpsPort}/x?y=1`);
    const secure = await httpsGet(platform.routerHttpsPort, appHost(), localCa);
    assert.equal(secure.headers['strict-transport-security'], 'max-age=300');
    assert.equal((await http2Get(platform.routerHttpsPort, appHost(), localCa)).headers['strict-transport-security'], 'max-age=300');

    await cli.ok(['update-route', appHost(), '--no-https-redirect', '--no-hsts']);
    await pollUntil('http to answer again', async () => (await viaRouter(platform, appHost())).status === 200, { timeoutMs: 15_000 });
    assert.equal((await httpsGet(platform.routerHttpsPort, appHost(), localCa)).headers['strict-transport-security'], undefined);
  });

  test('an org manager adds its own domain, verifies it by HTTP through the router; another org cannot claim it', async () => {
    needPebble();
    const owner = adminCli(platform, work, ownerToken);
    const created = await owner.ok(['create-private-domain', 'shop', DOMAIN]);
    assert.match(created, new RegExp(`http://${DOMAIN.replace(/\./g, '\\.')}/\\.well-known/paas-domain-verification/\\S+`));
    assert.match(created, /then: paas verify-domain shop\.example\.test/);
    assert.match(await owner.ok(['domains']), /^shop\.example\.test +private +shop +pending$/m);
    assert.match(await owner.ok(['verify-domain', DOMAIN]), /^verified shop\.example\.test/m);
    assert.match(await owner.ok(['domains']), /^shop\.example\.test +private +shop +verified$/m);

    const rival = adminCli(platform, work, rivalToken);
    const refused = await rival.paas(['create-private-domain', 'rival', DOMAIN]);
    assert.equal(refused.code, 1, `${refused.stdout}\n${refused.stderr}`);
    assert.match(refused.stderr, /^error: .*shop\.example\.test.*(another org|already exists|taken)/m);
    assert.doesNotMatch(refused.stderr, /\bshop\b(?!\.example)/, 'the holder is not named to another org');
    const events = ok(await api(platform, 'GET', '/v1/events?types=domain-verified'), 200, 'events').json.resources as Array<{ target: { name: string } }>;
    assert.ok(events.some((e) => JSON.stringify(e).includes(DOMAIN)), 'domain-verified recorded');
  });

  test('enable-ssl --wait: an ACME certificate from pebble, served by SNI, chaining to pebble\'s root', async () => {
    const p = needPebble();
    const owner = adminCli(platform, work, ownerToken);
    await owner.ok(['map-route', APP, DOMAIN, '--hostname', 'www']);
    const issued = await owner.ok(['enable-ssl', WWW, '--wait', '--timeout', '180']);
    assert.match(issued, /^certificate \S+ for www\.shop\.example\.test issued by .*Pebble/m);
    const root = await p.issuingRoot();
    const answer = await pollUntil('the router to serve the new certificate', async () => {
      const r = await httpsGet(platform.routerHttpsPort, WWW, root).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    }, { timeoutMs: 30_000 });
    assert.equal(echoed(answer.body).app, APP);
    assert.match(answer.certificate.subjectaltname ?? '', /DNS:www\.shop\.example\.test/);
    assert.equal((await http2Get(platform.routerHttpsPort, WWW, root)).status, 200);
    await assert.rejects(httpsGet(platform.routerHttpsPort, WWW, localCa), /certificate|self.signed|issuer/i, 'not the local CA\'s');
    const certs = await owner.ok(['certs']);
    assert.match(certs, /www\.shop\.example\.test +acme +issued +.*Pebble/);
  });

  test('renewal: the short-lived certificate is renewed before it ends and new handshakes get the new one', async () => {
    const root = await needPebble().issuingRoot();
    const covering = async () =>
      (ok(await api(platform, 'GET', '/v1/certificates'), 200, 'certificates').json.resources as Array<{ id: string; names: string[]; state: string; not_after: string | null }>).filter(
        (c) => c.names.includes(WWW) && c.state === 'issued' && c.not_after,
      );
    const first = (await covering()).map((c) => Date.parse(c.not_after!)).sort().at(-1)!;
    const served = (await presented(platform.routerHttpsPort, WWW, root))!;
    const renewed = await pollUntil('a renewed certificate', async () => {
      const later = (await covering()).filter((c) => Date.parse(c.not_after!) > first);
      return later.length > 0 ? later : undefined;
    }, { timeoutMs: (VALIDITY_S + 60) * 1000, intervalMs: 1_000 });
    assert.ok(renewed.length > 0);
    const fresh = await pollUntil('new handshakes to get it', async () => {
      const c = await presented(platform.routerHttpsPort, WWW, root);
      return c && c.serialNumber !== served.serialNumber ? c : undefined;
    }, { timeoutMs: 20_000 });
    assert.ok(Date.parse(fresh.valid_to) > Date.parse(served.valid_to), `${fresh.valid_to} after ${served.valid_to}`);
    const events = ok(await api(platform, 'GET', '/v1/events?types=certificate-renewed'), 200, 'events').json.resources as unknown[];
    assert.ok(events.length > 0, 'certificate-renewed recorded');
  });

  test('a failure with its reason: an order whose name does not resolve ends failed, with last_error', async () => {
    const p = needPebble();
    const host = `broken.${DOMAIN}`;
    await p.dns.setServfail(host);
    const owner = adminCli(platform, work, ownerToken);
    const failed = await owner.paas(['enable-ssl', host, '--wait', '--timeout', '180']);
    assert.equal(failed.code, 1, `${failed.stdout}\n${failed.stderr}`);
    assert.match(failed.stderr, new RegExp(`^error: certificate \\S+ for broken\\.shop\\.example\\.test failed: .+`, 'm'));
    const view = (ok(await api(platform, 'GET', '/v1/certificates'), 200, 'certificates').json.resources as Array<{ names: string[]; state: string; last_error: string | null; next_attempt_at: string | null }>).find((c) =>
      c.names.includes(host),
    );
    assert.equal(view?.state, 'failed');
    assert.match(view?.last_error ?? '', /SERVFAIL|DNS|resolv/i, 'the reason names the DNS problem');
    assert.ok(view?.next_attempt_at, 'retried later, with backoff');
    assert.match(await owner.ok(['certs']), /broken\.shop\.example\.test +acme +failed/);
  });
});
