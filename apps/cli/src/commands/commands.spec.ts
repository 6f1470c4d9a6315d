import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { InstanceView } from '@paas/contracts';
import { Context } from '../context';
import type { Cell } from '../ui/table';
import { INSTANCE_COLUMNS, instanceRows } from './apps';
import { normalizeApiUrl } from './auth';
import { parseEnvPairs, parseVersion } from './lifecycle';
import { normalizePath } from './routes';

test('set-env takes NAME VALUE or NAME=VALUE pairs (values may hold "=" and spaces)', () => {
  assert.deepEqual(parseEnvPairs(['GREETING', 'hello world']), { GREETING: 'hello world' });
  assert.deepEqual(parseEnvPairs(['A=1', 'B=x=y', 'C=']), { A: '1', B: 'x=y', C: '' });
  assert.throws(() => parseEnvPairs(['A=1', 'B']), /"B" is not NAME=VALUE/);
  assert.throws(() => parseEnvPairs(['=x']), /not NAME=VALUE/);
});

test('release versions are v3 or 3', () => {
  assert.equal(parseVersion('v3'), 3);
  assert.equal(parseVersion('12'), 12);
  assert.throws(() => parseVersion('three'), /like v3 or 3/);
  assert.throws(() => parseVersion('v0'), /like v3 or 3/);
});

test('route paths and API URLs are normalized', () => {
  assert.equal(normalizePath(undefined), '');
  assert.equal(normalizePath('/'), '');
  assert.equal(normalizePath('api'), '/api');
  assert.equal(normalizePath('/api/v1/'), '/api/v1');
  assert.equal(normalizeApiUrl('http://127.0.0.1:4000/'), 'http://127.0.0.1:4000');
  assert.throws(() => normalizeApiUrl('ftp://127.0.0.1:4000'), /http:\/\/ or https:\/\//);
  assert.throws(() => normalizeApiUrl('not a url'), /--api must be the controller's URL/);
});

test('the instance table names each instance release, and a STOPPING one is shown as such', () => {
  const ctx = new Context({ stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() } as unknown as Context['io'], { NO_COLOR: '1' });
  const base: InstanceView = {
    index: 0, instance_id: 'old', process_type: 'web', state: 'STOPPING', cell_id: 'cell-1', address: null, release_id: 'r1',
    release_version: 1, stop_reason: 'replaced by a new release', uptime_s: 0, since: '', crash_count: 0, last_crash_reason: null,
    unplaced_reason: null, memory_limit_mb: 64, disk_limit_mb: 512, usage: null,
  };
  const rows = instanceRows(ctx, [base, { ...base, instance_id: 'new', state: 'RUNNING', release_id: 'r2', release_version: 2, stop_reason: null, uptime_s: 5 }], undefined);
  assert.deepEqual(rows.map((r) => [r[0], (r[1] as Cell).text, r[2], r[4]]), [['0', 'STOPPING', 'v1', '-'], ['0', 'RUNNING', 'v2', '5s']]);
  assert.deepEqual(INSTANCE_COLUMNS.map((c) => c.header).slice(0, 3), ['#', 'state', 'release']);
});
