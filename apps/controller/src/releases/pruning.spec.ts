import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropletsToPrune } from './pruning';

const releases = (pairs: Array<[number, string]>) => pairs.map(([version, dropletId]) => ({ version, dropletId }));

test('keeps the droplets of the newest N releases; prunes older ones', () => {
  const r = releases([[1, 'd1'], [2, 'd2'], [3, 'd3'], [4, 'd4'], [5, 'd5']]);
  assert.deepEqual(dropletsToPrune(r, 'd5', 3).sort(), ['d1', 'd2']);
  assert.deepEqual(dropletsToPrune(r, 'd5', 5), []);
  assert.deepEqual(dropletsToPrune(r, 'd5', 10), []);
});

test('a droplet used by a kept release (env change, rollback) stays, however old its first release', () => {
  // v2..v5 are env changes and a rollback on d1's droplet.
  const r = releases([[1, 'd1'], [2, 'd2'], [3, 'd2'], [4, 'd1'], [5, 'd3']]);
  assert.deepEqual(dropletsToPrune(r, 'd3', 2), ['d2']);
});

test('the current release droplet stays even outside the newest N (a failed deploy of newer ones)', () => {
  const r = releases([[1, 'd1'], [2, 'd2'], [3, 'd3'], [4, 'd4']]);
  assert.deepEqual(dropletsToPrune(r, 'd1', 2), ['d2']);
  assert.deepEqual(dropletsToPrune(r, null, 1).sort(), ['d1', 'd2', 'd3']);
});

test('the input order does not matter', () => {
  const r = releases([[3, 'd3'], [1, 'd1'], [2, 'd2']]);
  assert.deepEqual(dropletsToPrune(r, 'd3', 1).sort(), ['d1', 'd2']);
});
