import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSpec } from '@paas/runtime';
import { journalLine } from './cell-host';

const spec = (env: Record<string, string>): ContainerSpec => ({
  id: 'fk-task-1',
  layers: [],
  command: ['true'],
  cwd: '/',
  env,
  user: { uid: 2000, gid: 2000 },
  memoryMb: 256,
  pidsLimit: 1024,
});

describe('journalLine', () => {
  it("names the cell, what happened, the container, and the app and process type of an app's container", () => {
    const app = spec({ VCAP_APPLICATION: JSON.stringify({ application_id: 'app-1', process_type: 'release' }) });
    assert.deepEqual(JSON.parse(journalLine('cell-a', { what: 'run-end', spec: app, result: { exitCode: 143 } })), {
      cell: 'cell-a',
      what: 'run-end',
      container: 'fk-task-1',
      appId: 'app-1',
      processType: 'release',
      exitCode: 143,
    });
    assert.deepEqual(JSON.parse(journalLine('cell-a', { what: 'run', spec: spec({}) })), { cell: 'cell-a', what: 'run', container: 'fk-task-1' });
  });
});
