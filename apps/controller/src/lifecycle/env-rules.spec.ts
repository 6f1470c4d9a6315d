import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEnvPatch, envPatchSchema, scaleSchema } from './env-rules';

test('an env patch sets strings and removes nulls', () => {
  assert.deepEqual(applyEnvPatch({ A: '1', B: '2' }, { B: null, C: '3' }), { A: '1', C: '3' });
});

test('reserved and malformed variable names are refused', () => {
  for (const name of ['PORT', 'VCAP_SERVICES', 'CF_INSTANCE_INDEX', '1ABC', 'A-B']) {
    assert.equal(envPatchSchema.safeParse({ var: { [name]: 'x' } }).success, false, name);
  }
  assert.equal(envPatchSchema.safeParse({ var: { DATABASE_URL: 'x', _X: null } }).success, true);
});

test('scale needs at least one field and sane bounds', () => {
  assert.equal(scaleSchema.safeParse({}).success, false);
  assert.equal(scaleSchema.safeParse({ instances: -1 }).success, false);
  assert.equal(scaleSchema.safeParse({ instances: 3 }).success, true);
  assert.equal(scaleSchema.safeParse({ memory_mb: 8 }).success, false);
});
