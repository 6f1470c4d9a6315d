import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidateDomainNames, domainsOfNames, type CertificateDomain } from './certificate-names.util';
import { retryDelayMs } from './acme-orders.service';

const domains: CertificateDomain[] = [
  { id: '1', name: 'shop.test', orgId: 'a', verifiedAt: new Date() },
  { id: '2', name: 'eu.shop.test', orgId: 'b', verifiedAt: new Date() },
  { id: '3', name: 'apps.localhost', orgId: null, verifiedAt: new Date() },
  { id: '4', name: 'new.test', orgId: 'a', verifiedAt: null },
];

test('candidate domains of a name are its suffixes, the wildcard label dropped', () => {
  assert.deepEqual(candidateDomainNames('*.www.shop.test'), ['www.shop.test', 'shop.test', 'test']);
});

test('each name is held by its longest domain; one owner per certificate', () => {
  assert.equal(domainsOfNames(['www.shop.test', '*.shop.test', 'shop.test'], domains, true).orgId, 'a');
  assert.equal(domainsOfNames(['x.eu.shop.test'], domains, true).orgId, 'b', 'the nested domain holds it');
  assert.equal(domainsOfNames(['x.apps.localhost'], domains, false).orgId, null);
  assert.throws(() => domainsOfNames(['www.shop.test', 'x.eu.shop.test'], domains, true), /different owners/);
});

test('refused names say why', () => {
  assert.throws(() => domainsOfNames(['*.shop.test'], domains, false), /wildcard: .*HTTP-01/);
  assert.throws(() => domainsOfNames(['www.other.test'], domains, true), /on no domain/);
  assert.throws(() => domainsOfNames(['a.new.test'], domains, true), /not verified yet.*\/v1\/domains\/4\/verify/);
  assert.throws(() => domainsOfNames(['bad_host.shop.test'], domains, true), /not a host name/);
});

test('the ACME retry delay doubles from the base and stops at the cap', () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelayMs(n, 60_000, 6 * 3600_000)), [60_000, 120_000, 240_000, 480_000]);
  assert.equal(retryDelayMs(20, 60_000, 6 * 3600_000), 6 * 3600_000);
  assert.equal(retryDelayMs(500, 60_000, 6 * 3600_000), 6 * 3600_000);
});
