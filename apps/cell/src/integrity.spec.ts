import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { integrityMatches, Sha512Check, sha512Digests } from './integrity';

test('sha512 digests of an SRI string: several, with options; weaker algorithms are ignored', () => {
  assert.deepEqual(sha512Digests('sha1-abc sha512-AAA== sha512-BBB==?foo'), ['AAA==', 'BBB==']);
  assert.deepEqual(sha512Digests('sha1-abc'), []);
  assert.deepEqual(sha512Digests(undefined), []);
});

test('a download matches only the sha512 the registry gave', () => {
  const data = Buffer.from('node binary');
  const check = new Sha512Check();
  check.update(data.subarray(0, 4));
  check.update(data.subarray(4));
  const actual = check.digest();
  const expected = `sha512-${createHash('sha512').update(data).digest('base64')}`;
  assert.equal(actual, expected);
  assert.equal(integrityMatches(`sha1-x ${expected}`, actual), true);
  assert.equal(integrityMatches(`sha512-${createHash('sha512').update('tampered').digest('base64')}`, actual), false);
  assert.equal(integrityMatches(undefined, actual), false, 'no integrity: no match');
  assert.equal(integrityMatches(`sha1-${createHash('sha1').update(data).digest('base64')}`, actual), false, 'a sha1 alone is not enough');
});
