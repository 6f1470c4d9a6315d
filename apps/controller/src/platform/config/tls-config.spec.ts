import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadControllerConfig } from './controller-config';

const base = {
  DATABASE_URL: 'postgresql://paas@127.0.0.1:5432/paas',
  REDIS_URL: 'redis://127.0.0.1:6379',
  PAAS_BLOBSTORE_DIR: '/var/lib/paas/blobs',
  PAAS_INTERNAL_TOKEN: 'x'.repeat(32),
  PAAS_ADMIN_TOKEN_FILE: '/var/lib/paas/admin-token',
};
const dir = mkdtempSync(join(tmpdir(), 'paas-tls-config-'));

test('HTTPS settings default to no secret key, no ACME, 30 days of renewal window and a 60 s retry base', () => {
  const { tls } = loadControllerConfig(base);
  assert.equal(tls.secretKey, undefined);
  assert.deepEqual(tls.acme, { directoryUrl: undefined, caPem: undefined, email: undefined, retryBaseMs: 60_000, retryCapMs: 6 * 3600_000 });
  assert.equal(tls.renewBeforeMs, 30 * 86_400_000);
  assert.equal(tls.localCaDir, undefined);
});

test('the secret key file is read once at boot; a missing or bad one fails the boot naming PAAS_SECRET_KEY_FILE', () => {
  const key = randomBytes(32);
  const good = join(dir, 'secret-key');
  writeFileSync(good, key.toString('base64') + '\n');
  assert.deepEqual(loadControllerConfig({ ...base, PAAS_SECRET_KEY_FILE: good }).tls.secretKey, key);
  const bad = join(dir, 'bad-key');
  writeFileSync(bad, 'short');
  assert.throws(() => loadControllerConfig({ ...base, PAAS_SECRET_KEY_FILE: bad }), /PAAS_SECRET_KEY_FILE: .*32 random bytes/);
  assert.throws(() => loadControllerConfig({ ...base, PAAS_SECRET_KEY_FILE: join(dir, 'missing') }), /PAAS_SECRET_KEY_FILE: cannot read .*ENOENT/);
  assert.throws(() => loadControllerConfig({ ...base, PAAS_SECRET_KEY_FILE: 'relative' }), /PAAS_SECRET_KEY_FILE must be an absolute path/);
  assert.throws(() => loadControllerConfig({ ...base, PAAS_LOCAL_CA_DIR: dir }), /PAAS_LOCAL_CA_DIR: .*needs PAAS_SECRET_KEY_FILE/);
});

test('ACME settings are checked: the directory URL, the CA file, the email, the windows', () => {
  assert.throws(() => loadControllerConfig({ ...base, PAAS_ACME_DIRECTORY_URL: 'not a url' }), /PAAS_ACME_DIRECTORY_URL/);
  const notPem = join(dir, 'ca.txt');
  writeFileSync(notPem, 'hello');
  assert.throws(() => loadControllerConfig({ ...base, PAAS_ACME_CA_FILE: notPem }), /PAAS_ACME_CA_FILE: .*holds no PEM certificate/);
  assert.throws(() => loadControllerConfig({ ...base, PAAS_ACME_EMAIL: 'nobody' }), /PAAS_ACME_EMAIL/);
  assert.throws(() => loadControllerConfig({ ...base, PAAS_CERT_RENEW_BEFORE_S: '0' }), /PAAS_CERT_RENEW_BEFORE_S: PAAS_CERT_RENEW_BEFORE_S must be at least 1/);
  assert.throws(() => loadControllerConfig({ ...base, PAAS_ACME_RETRY_BASE_S: '1.5' }), /PAAS_ACME_RETRY_BASE_S: .*whole number/);
  const c = loadControllerConfig({ ...base, PAAS_ACME_DIRECTORY_URL: 'https://127.0.0.1:14000/dir', PAAS_CERT_RENEW_BEFORE_S: '20', PAAS_ACME_RETRY_BASE_S: '2' }).tls;
  assert.deepEqual([c.acme.directoryUrl, c.renewBeforeMs, c.acme.retryBaseMs], ['https://127.0.0.1:14000/dir', 20_000, 2_000]);
});
