import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeApiUrl } from './auth';
import { parseEnvPairs, parseVersion } from './lifecycle';
import { normalizePath } from './routes';

test('set-env takes NAME VALUE or NAME=VALUE pairs (values may hold "=" and spaces)', () => {
  assert.deepEqual(parseEnvPairs(['GREETING', 'hello world']), { GREETING: 'hello world' });
  assert.deepEqual(parseEnvPairs(['A=1', 'B=x=y', 'C=']), { A: '1', B: 'x=y', C: '' });
  assert.throws(() => parseEnvPairs(['A=1', 'B']), /"B" is not NAME=VALUE/);
  assert.throws(() => parseEnvPairs(['=x']), /not NAME=VALUE/);
});

test('release versions are v3 or 3', () => {
  assert.equal(parseVersion('v3'), 3);
  assert.equal(parseVersion('12'), 12);
  assert.throws(() => parseVersion('three'), /like v3 or 3/);
  assert.throws(() => parseVersion('v0'), /like v3 or 3/);
});

test('route paths and API URLs are normalized', () => {
  assert.equal(normalizePath(undefined), '');
  assert.equal(normalizePath('/'), '');
  assert.equal(normalizePath('api'), '/api');
  assert.equal(normalizePath('/api/v1/'), '/api/v1');
  assert.equal(normalizeApiUrl('http://127.0.0.1:4000/'), 'http://127.0.0.1:4000');
  assert.throws(() => normalizeApiUrl('ftp://127.0.0.1:4000'), /http:\/\/ or https:\/\//);
  assert.throws(() => normalizeApiUrl('not a url'), /--api must be the controller's URL/);
});
