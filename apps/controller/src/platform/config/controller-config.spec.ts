import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadControllerConfig } from './controller-config';

const base = {
  DATABASE_URL: 'postgresql://paas@127.0.0.1:5432/paas',
  REDIS_URL: 'redis://127.0.0.1:6379',
  PAAS_BLOBSTORE_DIR: '/var/lib/paas/blobs',
  PAAS_INTERNAL_TOKEN: 'x'.repeat(32),
  PAAS_ADMIN_TOKEN_FILE: '/var/lib/paas/admin-token',
};

test('PAAS_RELEASES_KEPT defaults to 5 and takes a whole number of at least 1', () => {
  assert.equal(loadControllerConfig(base).releasesKept, 5);
  assert.equal(loadControllerConfig({ ...base, PAAS_RELEASES_KEPT: '1' }).releasesKept, 1);
  assert.equal(loadControllerConfig({ ...base, PAAS_RELEASES_KEPT: '20' }).releasesKept, 20);
});

test('a bad PAAS_RELEASES_KEPT fails the boot with the variable and the rule named', () => {
  assert.throws(() => loadControllerConfig({ ...base, PAAS_RELEASES_KEPT: '0' }), /PAAS_RELEASES_KEPT: PAAS_RELEASES_KEPT must be at least 1/);
  assert.throws(() => loadControllerConfig({ ...base, PAAS_RELEASES_KEPT: '2.5' }), /PAAS_RELEASES_KEPT: .*whole number/);
  assert.throws(() => loadControllerConfig({ ...base, PAAS_RELEASES_KEPT: 'many' }), /PAAS_RELEASES_KEPT/);
});

test('the lease settings default to 30 s and a sweep every 15 s; a bad one fails the boot with the variable named', () => {
  assert.deepEqual(loadControllerConfig(base).leases, { ttlMs: 30_000, sweepIntervalMs: 15_000 });
  assert.deepEqual(loadControllerConfig({ ...base, PAAS_LEASE_TTL_MS: '2000', PAAS_LEASE_SWEEP_INTERVAL_MS: '250' }).leases, { ttlMs: 2000, sweepIntervalMs: 250 });
  assert.throws(() => loadControllerConfig({ ...base, PAAS_LEASE_TTL_MS: '10' }), /PAAS_LEASE_TTL_MS: PAAS_LEASE_TTL_MS must be at least 1000/);
  assert.throws(() => loadControllerConfig({ ...base, PAAS_LEASE_TTL_MS: 'soon' }), /PAAS_LEASE_TTL_MS/);
  assert.throws(() => loadControllerConfig({ ...base, PAAS_LEASE_SWEEP_INTERVAL_MS: '1.5' }), /PAAS_LEASE_SWEEP_INTERVAL_MS: .*whole number/);
});

test('DATABASE_URL and REDIS_URL with a login are kept as they are, and a bad one is refused without echoing it', () => {
  const c = loadControllerConfig({ ...base, DATABASE_URL: 'postgresql://paas:s3cr%40t@127.0.0.1:5433/paas', REDIS_URL: 'redis://paas:s3cret@127.0.0.1:6380' });
  assert.equal(c.databaseUrl, 'postgresql://paas:s3cr%40t@127.0.0.1:5433/paas');
  assert.equal(c.redisUrl, 'redis://paas:s3cret@127.0.0.1:6380');
  assert.throws(
    () => loadControllerConfig({ ...base, DATABASE_URL: 'mysql://paas:s3cret@db/paas' }),
    (error: Error) => /DATABASE_URL must be a postgresql:\/\/ URL/.test(error.message) && !error.message.includes('s3cret'),
  );
});

test('own domains: PAAS_DNS_RESOLVER is an IP:port (unset or empty: none), PAAS_DOMAIN_VERIFY_HTTP_PORT defaults to 80', () => {
  assert.deepEqual(loadControllerConfig(base).domainVerification, { dnsResolver: undefined, httpPort: 80 });
  assert.deepEqual(loadControllerConfig({ ...base, PAAS_DNS_RESOLVER: '', PAAS_DOMAIN_VERIFY_HTTP_PORT: '8080' }).domainVerification, { dnsResolver: undefined, httpPort: 8080 });
  assert.equal(loadControllerConfig({ ...base, PAAS_DNS_RESOLVER: '127.0.0.1:8053' }).domainVerification.dnsResolver, '127.0.0.1:8053');
  assert.equal(loadControllerConfig({ ...base, PAAS_DNS_RESOLVER: '[::1]:53' }).domainVerification.dnsResolver, '[::1]:53');
  for (const bad of ['dns.example.com:53', '127.0.0.1', '127.0.0.1:0', '::1:53']) {
    assert.throws(() => loadControllerConfig({ ...base, PAAS_DNS_RESOLVER: bad }), /PAAS_DNS_RESOLVER: PAAS_DNS_RESOLVER must be the IP:port of a DNS server/, bad);
  }
  assert.throws(() => loadControllerConfig({ ...base, PAAS_DOMAIN_VERIFY_HTTP_PORT: '70000' }), /PAAS_DOMAIN_VERIFY_HTTP_PORT: .*1 to 65535/);
});
