import { test } from 'node:test';
import assert from 'node:assert/strict';
import { beyondRetention } from './service-backups-pass.service';

/** Backups newest first: `s` succeeded, `f` failed, one a minute apart. */
const history = (states: string) =>
  [...states].map((c, i) => ({ id: `${c}${i}`, state: c === 's' ? 'succeeded' : 'failed', createdAt: new Date(Date.UTC(2026, 0, 1, 12, 60 - i)) }));
const ids = (list: Array<{ id: string }>) => list.map((b) => b.id);

test('retention keeps the newest N succeeded scheduled backups and deletes older ones', () => {
  assert.deepEqual(ids(beyondRetention(history('ssss'), 2)), ['s2', 's3']);
  assert.deepEqual(ids(beyondRetention(history('ss'), 2)), []);
  assert.deepEqual(ids(beyondRetention(history('ss'), 0)), ['s0', 's1']);
});

test('failures never push good backups out: a run of failed ones keeps the last N succeeded', () => {
  assert.deepEqual(ids(beyondRetention(history('ffffss'), 2)), ['f2', 'f3'], 'the newest 2 failed stay visible, both good ones are kept');
  assert.deepEqual(ids(beyondRetention(history('fff'), 2)), ['f2']);
});

test('a failed backup older than the oldest succeeded one kept goes', () => {
  assert.deepEqual(ids(beyondRetention(history('sfsfs'), 2)), ['f3', 's4']);
});
