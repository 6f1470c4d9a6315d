import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActualInstance } from '@paas/contracts';
import { healthTimeoutMessage, healthVerdict, releaseCommandFailure, releaseCommandOf, releaseCommandSucceeded } from './deploy-reports';

const instance = (id: string, index: number, state: ActualInstance['state'], reason?: string): ActualInstance => ({
  instanceId: id,
  appId: 'a',
  appName: 'shop',
  releaseId: 'r2',
  processType: 'web',
  index,
  cellId: 'c1',
  state,
  since: new Date(0).toISOString(),
  crashCount: 0,
  ...(reason ? { reason } : {}),
});

test('healthVerdict: waiting, then running once all run; other instances are ignored', () => {
  const others = [instance('old', 0, 'RUNNING')];
  assert.deepEqual(healthVerdict([...others, instance('n1', 0, 'STARTING'), instance('n2', 1, 'RUNNING')], ['n1', 'n2'], 'web'), { kind: 'waiting', running: 1 });
  assert.deepEqual(healthVerdict([instance('n1', 0, 'RUNNING'), instance('n2', 1, 'RUNNING')], ['n1', 'n2'], 'web'), { kind: 'running' });
  assert.deepEqual(healthVerdict([], ['n1'], 'web'), { kind: 'waiting', running: 0 });
});

test('healthVerdict: a crash fails at once with the cell reason and its log lines', () => {
  const exited = healthVerdict([instance('n1', 0, 'CRASHED', 'the app exited: Error: boom | Node.js v24')], ['n1'], 'web');
  assert.deepEqual(exited, { kind: 'failed', message: 'new web instance 0 crashed on start: the app exited: Error: boom | Node.js v24' });
  const unbound = healthVerdict(
    [instance('n1', 1, 'CRASHED', 'the app did not listen on $PORT (8080) within 3s; its last log lines: listening on 3000')],
    ['n1'],
    'web',
  );
  assert.equal(unbound.kind, 'failed');
  assert.match((unbound as { message: string }).message, /^new web instance 1 did not become healthy: .*listening on 3000$/);
});

test('healthTimeoutMessage names the instances and the fix', () => {
  assert.match(healthTimeoutMessage('web', [0, 1], 60), /instance\(s\) 0, 1 did not become healthy within 60s .*GET \/v1\/cells/);
});

test('releaseCommandFailure: exit code and last lines; oom, timeout and cell errors say so', () => {
  const base = { lastLines: ['migrating', 'ERROR: relation exists'], durationMs: 10 };
  assert.equal(releaseCommandFailure({ ...base, exitCode: 3 }, 600), 'release command failed (exit 3): migrating | ERROR: relation exists');
  assert.match(releaseCommandFailure({ ...base, exitCode: 137, reason: 'oom' }, 600), /^release command failed \(exit 137, out of memory: raise/);
  assert.match(releaseCommandFailure({ ...base, exitCode: 137, reason: 'timeout' }, 600), /\(exit 137, timed out after 600s\)/);
  assert.equal(releaseCommandFailure({ exitCode: 1, lastLines: [], durationMs: 1 }, 600), 'release command failed (exit 1): it printed nothing');
  assert.equal(
    releaseCommandFailure({ exitCode: -1, reason: 'error', error: 'download failed: HTTP 404', lastLines: [], durationMs: 1 }, 600),
    'release command could not run: download failed: HTTP 404',
  );
  assert.equal(releaseCommandSucceeded({ exitCode: 0, lastLines: [], durationMs: 1 }), true);
  assert.equal(releaseCommandSucceeded({ exitCode: 0, reason: 'canceled', lastLines: [], durationMs: 1 }), false);
});

test('releaseCommandOf reads the Procfile release entry', () => {
  assert.equal(releaseCommandOf({ web: 'node server.js', release: ' node migrate.js ' }), 'node migrate.js');
  assert.equal(releaseCommandOf({ web: 'node server.js' }), undefined);
  assert.equal(releaseCommandOf({ release: '  ' }), undefined);
  assert.equal(releaseCommandOf(null), undefined);
});
