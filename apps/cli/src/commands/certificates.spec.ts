/**
 * The certificate commands and update-route, run as the real `paas` binary against a fake API on
 * 127.0.0.1 (testing/fake-domains-api.ts): the list (names, source, state, issuer, expiry, last
 * error), an upload read from files (unreadable files, a refused key; the key never printed), an
 * ACME order followed to issued or to failed (exit 1 with its last error), delete, and the HTTPS
 * settings of a route found by its full host.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeDomainsApi, ORGS } from '../testing/fake-domains-api';
import { paas as runPaas, type FakeServicesApi } from '../testing/fake-services-api';
import { expiry } from './certificates';
import { parseHsts, splitHost } from './routes';

let api: FakeDomainsApi;
let dir: string;
before(async () => {
  api = await new FakeDomainsApi().start();
  dir = await mkdtemp(join(tmpdir(), 'paas-cli-certs-'));
});
after(async () => {
  await api.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => api.reset());

const paas = (args: string[]) => runPaas({ url: api.url } as FakeServicesApi, args);
const said = (r: { stdout: string; stderr: string }) => `stdout: ${r.stdout}\nstderr: ${r.stderr}`;
const CHAIN = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('certs lists names, source, state, issuer, expiry and the last error', async () => {
  const up = api.seedCertificate();
  const failed = api.seedCertificate({ source: 'acme', state: 'failed', names: ['a.shop.example.test', 'b.shop.example.test'], issuer: null, not_after: null, last_error: 'the CA said: no such host' });
  const r = await paas(['certs']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^id\s+names\s+source\s+state\s+issuer\s+expires\s+last error$/m);
  assert.match(r.stdout, new RegExp(`^${up.id}\\s+www\\.shop\\.example\\.test\\s+upload\\s+issued\\s+CN=Test CA\\s+2099-01-01 \\d\\d:00:00 \\(in \\d+d\\)\\s*$`, 'm'));
  assert.match(r.stdout, new RegExp(`^${failed.id}\\s+a\\.shop\\.example\\.test, b\\.shop\\.example\\.test\\s+acme\\s+failed\\s+-\\s+-\\s+the CA said: no such host$`, 'm'));
  const json = JSON.parse((await paas(['certs', '--json'])).stdout) as Array<{ id: string }>;
  assert.deepEqual(json.map((c) => c.id), [up.id, failed.id]);
  api.certificates.length = 0;
  assert.match((await paas(['certs'])).stdout, /^no certificates: paas enable-ssl HOST orders one/);
});

test('upload-cert sends the files\' PEM and never prints the key; unreadable files and a refused key exit 1 saying why', async () => {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await writeFile(cert, CHAIN);
  await writeFile(key, '-----BEGIN PRIVATE KEY-----\nSECRETSECRET\n-----END PRIVATE KEY-----\n');
  const refused = await paas(['upload-cert', '--cert', cert, '--key', key]);
  assert.equal(refused.code, 1, said(refused));
  assert.match(refused.stderr, /error: the private key does not match the certificate/);
  assert.doesNotMatch(refused.stdout + refused.stderr, /SECRETSECRET/);

  await writeFile(key, 'GOOD but no PEM\n');
  const notPem = await paas(['upload-cert', '--cert', cert, '--key', key]);
  assert.equal(notPem.code, 1, said(notPem));
  assert.match(notPem.stderr, /--key .*key\.pem holds no PEM private key/);
  const swapped = await paas(['upload-cert', '--cert', key, '--key', cert]);
  assert.match(swapped.stderr, /holds no PEM certificate .*give the certificate chain, not the key/);
  assert.equal(api.requests.filter((q) => q.method === 'POST').length, 1, 'checked before sending');

  const goodKey = '-----BEGIN EC PRIVATE KEY-----\nGOODKEYKEY\n-----END EC PRIVATE KEY-----\n';
  await writeFile(key, goodKey);
  api.requests.length = 0;
  const sent = await paas(['upload-cert', '--cert', cert, '--key', key]);
  assert.equal(sent.code, 0, said(sent));
  assert.deepEqual(api.requests[0]?.body, { source: 'upload', certificate_chain: CHAIN, private_key: goodKey });
  assert.match(sent.stdout, /^uploaded certificate \S+ for www\.shop\.example\.test: issued, expires 2099-01-01 .*\(in \d+d\)$/m);
  assert.doesNotMatch(sent.stdout + sent.stderr, /GOODKEYKEY/);
  const json = await paas(['upload-cert', '--cert', cert, '--key', key, '--json']);
  assert.doesNotMatch(json.stdout, /GOODKEYKEY|private_key/);

  const missing = await paas(['upload-cert', '--cert', join(dir, 'nope.pem'), '--key', key]);
  assert.equal(missing.code, 1, said(missing));
  assert.match(missing.stderr, /error: cannot read --cert .*nope\.pem \(no such file\): give the file of the certificate chain/);
  const directory = await paas(['upload-cert', '--cert', cert, '--key', dir]);
  assert.equal(directory.code, 1);
  assert.match(directory.stderr, /cannot read --key .* \(it is a directory\)/);
  const usage = await paas(['upload-cert', '--cert', cert]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /required option '--key <file>' not specified/);
});

test('enable-ssl orders a certificate; --wait follows it to issued, or exits 1 with the last error when it failed', async () => {
  const quick = await paas(['enable-ssl', 'WWW.shop.example.test']);
  assert.equal(quick.code, 0, said(quick));
  assert.deepEqual(api.requests.find((q) => q.method === 'POST')?.body, { source: 'acme', names: ['www.shop.example.test'] });
  assert.match(quick.stdout, /^ordered certificate \S+ for www\.shop\.example\.test: pending; paas certs shows when it is issued \(or --wait\)$/m);

  api.pollsToEnd = 3;
  const waited = await paas(['enable-ssl', 'shop.example.test', '--wait']);
  assert.equal(waited.code, 0, said(waited));
  assert.match(waited.stdout, /^certificate \S+ for shop\.example\.test issued by CN=Pebble Intermediate CA 0a1b2c, expires 2099-01-01/m);
  const id = api.certificates.at(-1)!.id;
  assert.equal(api.requests.filter((q) => q.method === 'GET' && q.path === `/v1/certificates/${id}`).length, 3, 'polled until issued');

  const failed = await paas(['enable-ssl', 'fail.shop.example.test', '--wait']);
  assert.equal(failed.code, 1, said(failed));
  assert.match(failed.stderr, /error: certificate \S+ for fail\.shop\.example\.test failed: HTTP-01 challenge for fail\.shop\.example\.test failed: the CA could not connect to 127\.0\.0\.2:80 \(connection refused\) \(the platform tries again at/);

  api.pollsToEnd = 1000;
  const slow = await paas(['enable-ssl', 'slow.shop.example.test', '--wait', '--timeout', '1']);
  assert.equal(slow.code, 1, said(slow));
  assert.match(slow.stderr, /still pending after 1 s: follow it with paas certs/);
  const bad = await paas(['enable-ssl', 'x.example.test', '--timeout', 'soon']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--timeout must be a number of seconds/);
});

test('delete-cert deletes it; an unknown id exits 1 with the API\'s message', async () => {
  const cert = api.seedCertificate();
  const r = await paas(['delete-cert', cert.id]);
  assert.equal(r.code, 0, said(r));
  assert.equal(r.stdout, `deleted certificate ${cert.id}\n`);
  assert.equal(api.certificates.length, 0);
  const again = await paas(['delete-cert', cert.id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /error: no certificate .*: paas certs lists them/);
});

test('update-route finds the route by its full host and path and sends only what changes', async () => {
  const shop = api.seedDomain('shop.example.test', ORGS[0]!.id, true);
  const www = api.seedRoute('www', shop);
  const apiRoute = api.seedRoute('www', shop, '/api');
  const on = await paas(['update-route', 'www.shop.example.test', '--https-redirect', '--hsts', '31536000']);
  assert.equal(on.code, 0, said(on));
  assert.deepEqual(api.requests.find((q) => q.method === 'PATCH'), { method: 'PATCH', path: `/v1/routes/${www.id}`, body: { https_redirect: true, hsts_max_age: 31536000 } });
  assert.equal(on.stdout, 'updated www.shop.example.test: https redirect on, HSTS max-age 31536000\n');

  api.requests.length = 0;
  const off = await paas(['update-route', 'www.shop.example.test', '--path', 'api', '--no-hsts']);
  assert.equal(off.code, 0, said(off));
  assert.deepEqual(api.requests.find((q) => q.method === 'PATCH'), { method: 'PATCH', path: `/v1/routes/${apiRoute.id}`, body: { hsts_max_age: null } });
  assert.equal(off.stdout, 'updated www.shop.example.test/api: https redirect off, no HSTS\n');
  api.requests.length = 0;
  assert.equal((await paas(['update-route', 'www.shop.example.test', '--no-https-redirect'])).code, 0);
  assert.deepEqual(api.requests.find((q) => q.method === 'PATCH')?.body, { https_redirect: false });

  const nothing = await paas(['update-route', 'www.shop.example.test']);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /say what to change: --https-redirect or --no-https-redirect, --hsts MAX_AGE or --no-hsts/);
  const badHsts = await paas(['update-route', 'www.shop.example.test', '--hsts', '-1']);
  assert.equal(badHsts.code, 2);
  const noRoute = await paas(['update-route', 'shop.example.test', '--https-redirect']);
  assert.equal(noRoute.code, 1);
  assert.match(noRoute.stderr, /error: no route shop\.example\.test: paas routes lists them \(paas map-route APP shop\.example\.test --hostname "" creates it\)/);
  const noDomain = await paas(['update-route', 'a.b.nowhere.test', '--https-redirect']);
  assert.equal(noDomain.code, 1);
  assert.match(noDomain.stderr, /a\.b\.nowhere\.test is on no domain you may use/);
});

test('splitHost takes the longest domain leaving at most one label; parseHsts and expiry', () => {
  const d = (name: string) => ({ name }) as Parameters<typeof splitHost>[1][number];
  const domains = [d('example.test'), d('shop.example.test')];
  assert.deepEqual(splitHost('www.shop.example.test', domains), { domain: domains[1], host: 'www' });
  assert.deepEqual(splitHost('shop.example.test', domains), { domain: domains[1], host: '' });
  assert.deepEqual(splitHost('Blog.Example.Test.', domains), { domain: domains[0], host: 'blog' });
  assert.equal(splitHost('a.b.c.example.test', domains), undefined);
  assert.equal(parseHsts('300'), 300);
  assert.match(String(parseHsts('1e3')), /--hsts must be/);
  assert.match(String(parseHsts('63072001')), /--hsts must be/);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.match(expiry({ not_after: '2026-01-11T00:00:00Z' }, now), /\(in 10d\)$/);
  assert.match(expiry({ not_after: '2026-01-01T05:00:00Z' }, now), /\(in 5h\)$/);
  assert.match(expiry({ not_after: '2025-12-01T00:00:00Z' }, now), /\(expired\)$/);
  assert.equal(expiry({ not_after: null }, now), '-');
});
