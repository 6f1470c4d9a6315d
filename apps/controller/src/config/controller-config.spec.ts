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
