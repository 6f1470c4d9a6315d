import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActualInstance, CellPresence } from '@paas/contracts';
import { planConvergence, restartDelayMs, type CrashHistory } from './convergence';

const NOW = 1_000_000_000;
const cell = (id: string, state: 'live' | 'draining' = 'live'): [string, CellPresence] => [
  id,
  { id, address: '127.0.0.1', zone: 'z1', capacity: { memoryMb: 4096, maxContainers: 50 }, instances: 0, usedMemoryMb: 0, state, startedAt: '' },
];
let n = 0;
const inst = (index: number, cellId: string, state: ActualInstance['state'] = 'RUNNING', since = NOW - 1000): ActualInstance => ({
  instanceId: `i${++n}`,
  appId: 'app',
  appName: 'app',
  releaseId: 'r1',
  processType: 'web',
  index,
  cellId,
  state,
  since: new Date(since).toISOString(),
  crashCount: 0,
});
const plan = (instances: number, actual: ActualInstance[], cells = new Map([cell('c1'), cell('c2')]), crashes = new Map<number, CrashHistory>()) =>
  planConvergence({ desired: { appId: 'app', processType: 'web', instances }, actual, cells, crashes, now: NOW });

test('starts missing indexes and stops extra ones', () => {
  const p = plan(3, [inst(0, 'c1'), inst(3, 'c2')]);
  assert.deepEqual(p.start.map((s) => [s.index, s.reason]), [[1, 'missing'], [2, 'missing']]);
  assert.deepEqual(p.stop.map((s) => s.instance.index), [3]);
});

test('replaces the instances of a lost cell and forgets their records', () => {
  const lost = inst(1, 'gone');
  const p = plan(2, [inst(0, 'c1'), lost]);
  assert.deepEqual(p.start, [{ index: 1, reason: 'cell-lost' }]);
  assert.deepEqual(p.forget, [lost]);
});

test('restarts a crashed instance at once the first times, then backs off with doubling waits, capped', () => {
  const crashed = inst(0, 'c1', 'CRASHED', NOW - 10);
  const first = plan(1, [crashed]);
  assert.deepEqual(first.start, [{ index: 0, reason: 'crashed' }]);
  assert.equal(first.crashed[0].history.count, 1);
  const history = new Map([[0, { count: 4, lastCrashAt: NOW - 10, lastInstanceId: 'older', reason: 'boom' }]]);
  const fifth = plan(1, [inst(0, 'c1', 'CRASHED', NOW - 10)], undefined, history);
  assert.equal(fifth.crashed[0].history.count, 5);
  assert.equal(fifth.start.length, 0, 'the fifth crash waits');
  assert.equal(fifth.waiting[0].until, NOW - 10 + restartDelayMs(5));
  assert.deepEqual([1, 2, 3, 4, 5, 6, 20].map(restartDelayMs), [0, 0, 0, 2000, 4000, 8000, 60000]);
});

test('a crashed instance already counted is not counted twice, and waits out its backoff', () => {
  const crashed = inst(0, 'c1', 'CRASHED', NOW - 1000);
  const history = new Map([[0, { count: 5, lastCrashAt: NOW - 1000, lastInstanceId: crashed.instanceId, reason: 'boom' }]]);
  const p = plan(1, [crashed], undefined, history);
  assert.equal(p.crashed.length, 0);
  assert.equal(p.waiting.length, 1);
});

test('a long healthy stretch resets the crash history', () => {
  const history = new Map([[0, { count: 7, lastCrashAt: NOW - 600_000, lastInstanceId: 'x', reason: 'boom' }]]);
  const p = plan(1, [inst(0, 'c1', 'RUNNING', NOW - 120_000)], undefined, history);
  assert.deepEqual(p.resetCrashes, [0]);
});

test('a draining cell: replacement first, the old instance stops only once the new one runs', () => {
  const cells = new Map([cell('c1', 'draining'), cell('c2')]);
  const old = inst(0, 'c1');
  const before = plan(1, [old], cells);
  assert.deepEqual(before.start, [{ index: 0, reason: 'evacuating' }]);
  assert.equal(before.stop.length, 0);
  const starting = plan(1, [old, inst(0, 'c2', 'STARTING')], cells);
  assert.equal(starting.start.length + starting.stop.length, 0, 'waits while the replacement starts');
  const done = plan(1, [old, inst(0, 'c2', 'RUNNING')], cells);
  assert.deepEqual(done.stop.map((s) => s.instance), [old]);
});

test('just after a deploy, an index with an old and a new instance keeps the one of the current release', () => {
  const old = inst(0, 'c1', 'RUNNING', NOW - 60_000);
  const fresh = { ...inst(0, 'c2', 'RUNNING'), releaseId: 'r2' };
  for (const actual of [[old, fresh], [fresh, old]]) {
    const p = planConvergence({ desired: { appId: 'app', processType: 'web', instances: 1, releaseId: 'r2' }, actual, cells: new Map([cell('c1'), cell('c2')]), crashes: new Map(), now: NOW });
    assert.deepEqual(p.stop.map((s) => s.instance.instanceId), [old.instanceId], 'the old release instance goes, whatever the order');
    assert.deepEqual(p.start, []);
  }
});

test('keeps one instance per index: a duplicate is stopped, the running one kept', () => {
  const a = inst(0, 'c1', 'STARTING');
  const b = inst(0, 'c2', 'RUNNING');
  const p = plan(1, [a, b]);
  assert.deepEqual(p.stop.map((s) => s.instance), [a]);
});

test('a STOPPING instance is not present: its index gets a new one, it is not stopped again until its stop is overdue', () => {
  const leaving = inst(0, 'c1', 'STOPPING');
  const p = plan(2, [leaving, inst(1, 'c2'), inst(2, 'c1', 'STOPPING')]);
  assert.deepEqual(p.start, [{ index: 0, reason: 'missing' }]);
  assert.deepEqual(p.stop, [], 'neither a duplicate nor an extra: already on its way out');
  const stuck = inst(2, 'c1', 'STOPPING', NOW - 61_000);
  const later = plan(2, [inst(0, 'c1'), inst(1, 'c2'), { ...stuck, reason: 'scaled down' }]);
  assert.deepEqual(later.stop.map((s) => [s.instance.instanceId, s.reason]), [[stuck.instanceId, 'scaled down: its stop did not finish, asked again']]);
});
