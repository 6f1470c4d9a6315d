import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowsTransition } from './instance';
import { countInstances, describeCounts } from './api';

test('an instance goes STARTING -> RUNNING -> CRASHED or STOPPED, never back', () => {
  assert.ok(allowsTransition('STARTING', 'RUNNING'));
  assert.ok(allowsTransition('STARTING', 'CRASHED'));
  assert.ok(allowsTransition('RUNNING', 'STOPPED'));
  assert.ok(allowsTransition('RUNNING', 'RUNNING'), 'a refresh of the same state');
  assert.equal(allowsTransition('RUNNING', 'STARTING'), false);
  assert.equal(allowsTransition('CRASHED', 'RUNNING'), false);
  assert.equal(allowsTransition('STOPPED', 'RUNNING'), false);
});

test('a STOPPING instance only ends STOPPED: it never runs again, and its exit is no crash', () => {
  assert.ok(allowsTransition('STARTING', 'STOPPING'));
  assert.ok(allowsTransition('RUNNING', 'STOPPING'));
  assert.ok(allowsTransition('STOPPING', 'STOPPED'));
  assert.equal(allowsTransition('STOPPING', 'RUNNING'), false);
  assert.equal(allowsTransition('STOPPING', 'CRASHED'), false);
  assert.equal(allowsTransition('CRASHED', 'STOPPING'), false);
});

test('counts: the STOPPING instances of a release being replaced are not running', () => {
  const web = (state: 'RUNNING' | 'STOPPING' | 'STARTING' | 'CRASHED' | 'UNPLACED' | 'DOWN') => ({ process_type: 'web', state });
  const [counts] = countInstances([web('RUNNING'), web('RUNNING'), web('RUNNING'), web('STOPPING'), web('STOPPING'), web('STOPPING')], new Map([['web', 3]]));
  assert.deepEqual(counts, { process_type: 'web', desired: 3, running: 3, starting: 0, stopping: 3, crashed: 0, unplaced: 0 });
  assert.equal(describeCounts(counts!), '3/3 running (+3 stopping)');
  const mixed = countInstances([web('RUNNING'), web('STARTING'), web('CRASHED'), web('UNPLACED'), web('DOWN'), { process_type: 'worker', state: 'RUNNING' }], new Map([['web', 4], ['clock', 0]]));
  assert.deepEqual(
    mixed.map((c) => [c.process_type, describeCounts(c)]),
    [
      ['web', '1/4 running (+1 starting, 1 crashed, 1 not placed)'],
      ['clock', '0/0 running'],
      ['worker', '1/0 running'],
    ],
  );
});
