/**
 * The domain commands, run as the real `paas` binary against a fake domains API on 127.0.0.1
 * (testing/fake-domains-api.ts): the list with each domain's state, a private domain created
 * with the steps to prove control of it, its verification (exit 1 with the reason when it fails,
 * the API's refusal shown as it said it), and deleting it.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { domainViewSchema } from '@paas/contracts';
import { FakeDomainsApi, ORGS } from '../testing/fake-domains-api';
import { paas as runPaas, type FakeServicesApi } from '../testing/fake-services-api';

let api: FakeDomainsApi;
before(async () => {
  api = await new FakeDomainsApi().start();
});
after(() => api.stop());
beforeEach(() => api.reset());

const paas = (args: string[]) => runPaas({ url: api.url } as FakeServicesApi, args);
const said = (r: { stdout: string; stderr: string }) => `stdout: ${r.stdout}\nstderr: ${r.stderr}`;

test('domains lists each domain with its type, org and state; --json as the API answers', async () => {
  api.seedDomain('shop.example.test', ORGS[0]!.id);
  api.seedDomain('blog.example.test', ORGS[1]!.id, true);
  const r = await paas(['domains']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^name\s+type\s+org\s+state$/m);
  assert.match(r.stdout, /^apps\.localhost\s+shared \(default\)\s+-\s+verified$/m);
  assert.match(r.stdout, /^shop\.example\.test\s+private\s+acme\s+pending$/m);
  assert.match(r.stdout, /^blog\.example\.test\s+private\s+other\s+verified$/m);
  assert.match(r.stderr, /paas verify-domain DOMAIN/);
  const json = await paas(['domains', '--json']);
  assert.deepEqual(z.array(domainViewSchema).parse(JSON.parse(json.stdout)).map((d) => [d.name, d.verification.state]), [
    ['apps.localhost', 'verified'],
    ['shop.example.test', 'pending'],
    ['blog.example.test', 'verified'],
  ]);
});

test('create-private-domain creates it for the org and prints the token URL, the TXT record when DNS is on, and the next step', async () => {
  const r = await paas(['create-private-domain', 'acme', 'Shop.Example.Test']);
  assert.equal(r.code, 0, said(r));
  assert.deepEqual(api.requests.find((q) => q.method === 'POST')?.body, { name: 'shop.example.test', org_id: ORGS[0]!.id });
  assert.match(r.stdout, /^created private domain shop\.example\.test of org acme \(pending\)$/m);
  assert.match(r.stdout, /^ {8}http:\/\/shop\.example\.test\/\.well-known\/paas-domain-verification\/tok-shopexampletest$/m);
  assert.match(r.stdout, /with the body tok-shopexampletest/);
  assert.doesNotMatch(r.stdout, /TXT/, 'no DNS record without a resolver');
  assert.match(r.stdout, /^then: paas verify-domain shop\.example\.test$/m);

  api.dnsResolver = true;
  const dns = await paas(['create-private-domain', 'acme', 'dns.example.test']);
  assert.equal(dns.code, 0, said(dns));
  assert.match(dns.stdout, /DNS: {2}add the record _paas-verification\.dns\.example\.test TXT "tok-dnsexampletest"/);
  assert.match(dns.stdout, /^then: paas verify-domain dns\.example\.test \[--dns\]$/m);
});

test('create-private-domain: an unknown org, and a domain another org holds, exit 1 with the reason', async () => {
  const noOrg = await paas(['create-private-domain', 'nope', 'x.example.test']);
  assert.equal(noOrg.code, 1, said(noOrg));
  assert.match(noOrg.stderr, /error: no org nope: paas orgs lists the orgs you are in/);
  const held = await paas(['create-private-domain', 'acme', 'held.example.test']);
  assert.equal(held.code, 1, said(held));
  assert.match(held.stderr, /error: the domain held\.example\.test is held by another org: a domain belongs to one org/);
  const usage = await paas(['create-private-domain', 'acme']);
  assert.equal(usage.code, 2, said(usage));
  assert.match(usage.stderr, /missing required argument 'domain'/);
});

test('verify-domain verifies by HTTP, or by DNS with --dns; a failed check exits 1 with the last error; a refusal shows the API\'s message', async () => {
  const shop = api.seedDomain('shop.example.test', ORGS[0]!.id);
  const ok = await paas(['verify-domain', 'shop.example.test']);
  assert.equal(ok.code, 0, said(ok));
  assert.deepEqual(api.requests.find((q) => q.method === 'POST')?.body, { method: 'http' });
  assert.equal(api.requests.find((q) => q.method === 'POST')?.path, `/v1/domains/${shop.id}/verify`);
  assert.match(ok.stdout, /^verified shop\.example\.test: paas map-route APP shop\.example\.test --hostname HOST, then paas enable-ssl HOST\.shop\.example\.test$/m);

  api.seedDomain('unreachable.example.test', ORGS[0]!.id);
  const failed = await paas(['verify-domain', 'unreachable.example.test']);
  assert.equal(failed.code, 1, said(failed));
  assert.match(failed.stderr, /error: unreachable\.example\.test is not verified: http:\/\/unreachable\.example\.test\/\.well-known\/paas-domain-verification\/tok-unreachableexampletest answered 404/);
  assert.match(failed.stderr, /then run paas verify-domain unreachable\.example\.test again/);

  const dns = await paas(['verify-domain', 'unreachable.example.test', '--dns']);
  assert.equal(dns.code, 1, said(dns));
  assert.match(dns.stderr, /error: DNS verification is not configured on this platform \(PAAS_DNS_RESOLVER is unset\)/);
  assert.deepEqual(api.requests.filter((q) => q.method === 'POST').at(-1)?.body, { method: 'dns' });

  const missing = await paas(['verify-domain', 'nowhere.test']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /error: no domain nowhere\.test: paas domains lists them/);
});

test('delete-domain deletes it; one with routes is refused with the API\'s message', async () => {
  const shop = api.seedDomain('shop.example.test', ORGS[0]!.id);
  api.seedRoute('www', shop);
  const refused = await paas(['delete-domain', 'shop.example.test']);
  assert.equal(refused.code, 1, said(refused));
  assert.match(refused.stderr, /still has 1 route\(s\): delete them first/);
  api.routes.length = 0;
  const r = await paas(['delete-domain', 'shop.example.test']);
  assert.equal(r.code, 0, said(r));
  assert.equal(r.stdout, 'deleted domain shop.example.test\n');
  assert.deepEqual(api.domains.map((d) => d.name), ['apps.localhost']);
});
