import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { LostLeases } from './lease';

/** Just what LostLeases reads: which keys exist. */
function keysThatExist(keys: Set<string>): Redis {
  return { exists: async (key: string) => (keys.has(key) ? 1 : 0) } as unknown as Redis;
}

test('a lease counts as lost only when it is still missing half a TTL after it was first seen missing', async () => {
  const keys = new Set(['lease:a']);
  let now = 0;
  const lost = new LostLeases(keysThatExist(keys), 2000, () => now);
  assert.equal(await lost.lost('a', 'lease:a'), false);
  keys.delete('lease:a');
  assert.equal(await lost.lost('a', 'lease:a'), false, 'missing once (Redis restarted empty) is not lost');
  now = 999;
  assert.equal(await lost.lost('a', 'lease:a'), false);
  now = 1000;
  assert.equal(await lost.lost('a', 'lease:a'), true);
});

test('a lease that comes back (its holder set it again) starts the count anew', async () => {
  const keys = new Set<string>();
  let now = 0;
  const lost = new LostLeases(keysThatExist(keys), 2000, () => now);
  assert.equal(await lost.lost('a', 'lease:a'), false);
  now = 500;
  keys.add('lease:a');
  assert.equal(await lost.lost('a', 'lease:a'), false);
  keys.delete('lease:a');
  now = 1200;
  assert.equal(await lost.lost('a', 'lease:a'), false);
  now = 2200;
  assert.equal(await lost.lost('a', 'lease:a'), true);
});

test('keepOnly forgets work no longer watched', async () => {
  let now = 0;
  const lost = new LostLeases(keysThatExist(new Set()), 2000, () => now);
  await lost.lost('a', 'lease:a');
  lost.keepOnly(['b']);
  now = 5000;
  assert.equal(await lost.lost('a', 'lease:a'), false, 'seen missing for the first time again');
});
