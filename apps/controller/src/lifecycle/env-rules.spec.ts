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

test('scale: cpu_millicores is whole millicores from 10 to 64000, or null for no quota', () => {
  for (const ok of [10, 500, 64_000, null]) assert.equal(scaleSchema.safeParse({ cpu_millicores: ok }).success, true, String(ok));
  for (const bad of [9, 0, -500, 64_001, 0.5, '500m', '0.5', true]) {
    const parsed = scaleSchema.safeParse({ cpu_millicores: bad });
    assert.equal(parsed.success, false, String(bad));
    assert.match(parsed.error!.issues[0].message, /^cpu_millicores is a whole number of millicores from 10 to 64000 \(500 = half a core\), or null for no quota$/);
  }
  assert.equal(scaleSchema.safeParse({ cpu_millicores: null }).data?.cpu_millicores, null, 'null is a change (remove), not "no field"');
});
