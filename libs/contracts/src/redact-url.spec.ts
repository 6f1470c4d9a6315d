import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactUrl } from './redact-url';

test('redactUrl hides the password of redis and postgres URLs', () => {
  assert.equal(redactUrl('redis://paas:s3cret@127.0.0.1:6380'), 'redis://paas:***@127.0.0.1:6380');
  assert.equal(redactUrl('rediss://:s3cret@redis.internal:6380/0'), 'rediss://:***@redis.internal:6380/0');
  assert.equal(redactUrl('postgresql://paas:p%40ss@127.0.0.1:5433/paas'), 'postgresql://paas:***@127.0.0.1:5433/paas');
  assert.equal(redactUrl('redis://paas:p@ss@127.0.0.1:6380'), 'redis://paas:***@127.0.0.1:6380', 'an unencoded @ in the password');
});

test('redactUrl keeps URLs without a password as they are', () => {
  assert.equal(redactUrl('redis://127.0.0.1:6380'), 'redis://127.0.0.1:6380');
  assert.equal(redactUrl('postgresql://paas@127.0.0.1:5433/paas'), 'postgresql://paas@127.0.0.1:5433/paas');
  assert.equal(redactUrl('http://host/path:x@y'), 'http://host/path:x@y');
});
