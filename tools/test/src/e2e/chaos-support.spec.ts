import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSnapshots, type StateSnapshot } from './chaos-support';

const snap = (entries: Record<string, unknown>): StateSnapshot => new Map(Object.entries(entries));

test('the same state compares equal, key order aside', () => {
  assert.deepEqual(compareSnapshots(snap({ 'app:a': { v: 1 }, routes: [] }), snap({ routes: [], 'app:a': { v: 1 } })), []);
});

test('a changed, appeared or vanished key is named', () => {
  const differences = compareSnapshots(snap({ 'app:a:env': { var: { A: '1' } }, 'app:b': {} }), snap({ 'app:a:env': { var: { A: '2' } }, 'app:c': {} }));
  assert.deepEqual(differences.map((d) => d.split(':').slice(0, 3).join(':')), ['app:a:env', 'app:b: vanished (was {})', 'app:c: appeared {}']);
  assert.match(differences[0]!, /was \{"var":\{"A":"1"\}\}, now \{"var":\{"A":"2"\}\}/);
});

test('keys the case may change are skipped', () => {
  assert.deepEqual(compareSnapshots(snap({ 'app:p:releases': [] }), snap({ 'app:p:releases': [{ version: 1 }] }), (k) => k.startsWith('app:p')), []);
});
