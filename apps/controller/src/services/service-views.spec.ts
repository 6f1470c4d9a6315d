import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceState } from '@paas/contracts';
import { serviceStatus } from './service-views';

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
