import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newlyExpired } from './presence-watch';

test('a cell live at the last read whose presence expired since is newly lost', () => {
  assert.deepEqual(newlyExpired(new Set(['c1', 'c2']), ['c2']), ['c2']);
});

test('a cell expired before the last read is not lost again (the pass then already knew it)', () => {
  assert.deepEqual(newlyExpired(new Set(['c1']), ['c2', 'c3']), []);
});

test('nothing is lost before a first read: the periodic pass covers what expired meanwhile', () => {
  assert.deepEqual(newlyExpired(undefined, ['c1']), []);
});
