import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { openSecret, parseSecretKey, sealSecret } from './sealed-secret';

describe('sealed secrets', () => {
  const key = randomBytes(32);

  it('opens what it sealed, with a new IV each time', () => {
    const a = sealSecret(key, '-----BEGIN PRIVATE KEY-----\nabc\n');
    const b = sealSecret(key, '-----BEGIN PRIVATE KEY-----\nabc\n');
    assert.notEqual(a, b);
    assert.doesNotMatch(a, /PRIVATE KEY/);
    assert.equal(openSecret(key, a), '-----BEGIN PRIVATE KEY-----\nabc\n');
  });

  it('refuses another key, an altered ciphertext and text that was never sealed', () => {
    const sealed = sealSecret(key, 'secret');
    assert.throws(() => openSecret(randomBytes(32), sealed));
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    assert.throws(() => openSecret(key, [...parts.slice(0, 3), ct.toString('base64url')].join('.')));
    assert.throws(() => openSecret(key, 'secret'), /not a sealed secret/);
  });

  it('reads a key file in base64 or hex and refuses other lengths', () => {
    assert.deepEqual(parseSecretKey(key.toString('base64') + '\n'), key);
    assert.deepEqual(parseSecretKey(key.toString('hex')), key);
    assert.throws(() => parseSecretKey(randomBytes(16).toString('base64')), /32 random bytes/);
  });
});
