import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceState } from '@paas/contracts';
import { serviceStatus, serviceUsage } from './service-views';

const created = { operationType: 'create', operationState: 'succeeded', cellId: 'c1' };
const report = (state: ServiceState['state'], error?: string): ServiceState => ({
  serviceInstanceId: 'i',
  cellId: 'c1',
  state,
  host: '10.0.0.5',
  port: 61000,
  at: new Date().toISOString(),
  ...(error ? { error } : {}),
});

test('a created instance is available, starting or crashed as its cell reports it', () => {
  assert.deepEqual(serviceStatus(created, report('running'), true), { status: 'available', status_reason: null });
  assert.deepEqual(serviceStatus(created, report('starting'), true), { status: 'starting', status_reason: null });
  assert.deepEqual(serviceStatus(created, report('crashed', 'exited with status 1'), true), { status: 'crashed', status_reason: 'exited with status 1 (the cell starts it again)' });
  assert.deepEqual(serviceStatus(created, report('failed', 'mount failed'), true), { status: 'unavailable', status_reason: 'mount failed' });
});

test('a lost cell or a missing report makes it unavailable, saying which', () => {
  assert.deepEqual(serviceStatus(created, report('running'), false), { status: 'unavailable', status_reason: 'cell c1 is lost: its data stays on its volume' });
  assert.match(serviceStatus(created, undefined, true).status_reason!, /cell c1 has not reported it/);
});

test('no status while it is being created or deleted, or when its create failed', () => {
  for (const op of [
    { operationType: 'create', operationState: 'in progress' },
    { operationType: 'create', operationState: 'failed' },
    { operationType: 'delete', operationState: 'in progress' },
  ]) {
    assert.deepEqual(serviceStatus({ ...op, cellId: 'c1' }, report('running'), true), { status: null, status_reason: null });
  }
});

const managed = { type: 'managed', cellId: 'c1', memoryMb: 256, diskMb: 1024 };

test('a running managed instance\'s usage is its report\'s, against its plan\'s limits in bytes', () => {
  const running = { ...report('running'), memoryBytes: 50_000_000, diskUsedBytes: 12_000_000, connections: 3, memoryMb: 256, diskMb: 1024, at: '2026-12-05T10:00:00.000Z' };
  assert.deepEqual(serviceUsage(managed, running), {
    memory_bytes: 50_000_000,
    memory_limit_bytes: 256 * 1024 * 1024,
    disk_used_bytes: 12_000_000,
    disk_limit_bytes: 1024 * 1024 * 1024,
    connections: 3,
    reported_at: '2026-12-05T10:00:00.000Z',
  });
  // The limits are the plan's (the record's), also while a resize has not reached the server yet.
  assert.equal(serviceUsage({ ...managed, memoryMb: 1024 }, running)?.memory_limit_bytes, 1024 * 1024 * 1024);
});

test('what the cell did not measure is null; a zero is a zero', () => {
  const bare = report('running');
  assert.deepEqual(serviceUsage(managed, bare), {
    memory_bytes: null,
    memory_limit_bytes: 256 * 1024 * 1024,
    disk_used_bytes: null,
    disk_limit_bytes: 1024 * 1024 * 1024,
    connections: null,
    reported_at: bare.at,
  });
  assert.equal(serviceUsage(managed, { ...bare, connections: 0 })?.connections, 0);
});

test('no usage unless the managed server runs on its cell: no report, starting, crashed, failed, another cell, not placed, not managed', () => {
  assert.equal(serviceUsage(managed, undefined), null);
  for (const state of ['starting', 'crashed', 'failed'] as const) assert.equal(serviceUsage(managed, report(state)), null, state);
  assert.equal(serviceUsage(managed, { ...report('running'), cellId: 'c2' }), null);
  assert.equal(serviceUsage({ ...managed, cellId: null }, report('running')), null);
  assert.equal(serviceUsage({ ...managed, type: 'user-provided' }, report('running')), null);
  assert.equal(serviceUsage({ ...managed, type: 'brokered' }, report('running')), null);
});
