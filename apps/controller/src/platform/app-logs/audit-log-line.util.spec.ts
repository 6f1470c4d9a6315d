import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditLogLine } from './audit-log-line.util';

test('app events read as what changed and who changed it', () => {
  assert.deepEqual(auditLogLine('app-created', 'admin', 'shop', { route: true }), { text: 'Created app shop by admin', stream: 'OUT' });
  assert.equal(auditLogLine('app-env-changed', 'dev', 'shop', { names: ['DATABASE_URL', 'X'] }).text, 'Updated environment variables DATABASE_URL, X by dev');
  assert.equal(auditLogLine('app-scaled', 'admin', 'shop', { process_type: 'worker', instances: 3, memory_mb: 512 }).text, 'Scaled worker: instances 3, memory 512 MB by admin');
  assert.equal(auditLogLine('app-scaled', 'admin', 'shop', { process_type: 'web', cpu_millicores: 500 }).text, 'Scaled web: cpu 500m by admin');
  assert.equal(auditLogLine('app-scaled', 'admin', 'shop', { process_type: 'web', cpu_millicores: null }).text, 'Scaled web: no cpu quota by admin');
  assert.equal(auditLogLine('app-pushed', 'admin', 'shop', { commit: '0123456789abcdef', release: 4 }).text, 'Pushed commit 0123456: release v4 by admin');
  assert.equal(auditLogLine('app-rolled-back', 'admin', 'shop', { to_version: 2, release: 5 }).text, 'Rolled back to v2 (new release v5) by admin');
  assert.equal(auditLogLine('route-mapped', 'admin', 'shop', { url: 'shop.apps.test', process_type: 'web' }).text, 'Mapped route shop.apps.test to web by admin');
});

test('failures go to ERR; the platform itself is no actor', () => {
  assert.deepEqual(auditLogLine('instance-crashed', 'system', 'shop', { process_type: 'web', index: 1, reason: 'the app exited' }), {
    text: 'App instance 1 of web crashed: the app exited',
    stream: 'ERR',
  });
  assert.deepEqual(auditLogLine('deploy-failed', 'admin', 'shop', { release: 3, reason: 'no cell' }), { text: 'Deployment of release v3 failed: no cell by admin', stream: 'ERR' });
});

test('an event type without a text of its own still reads as a sentence', () => {
  assert.equal(auditLogLine('app-something-new', 'admin', 'shop', {}).text, 'App something new by admin');
});

test('env values never appear, only names', () => {
  assert.doesNotMatch(auditLogLine('app-env-changed', 'admin', 'shop', { names: ['SECRET'], values: { SECRET: 'hunter2' } }).text, /hunter2/);
});
