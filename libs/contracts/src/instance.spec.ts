import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowsTransition } from './instance';

test('an instance goes STARTING -> RUNNING -> CRASHED or STOPPED, never back', () => {
  assert.ok(allowsTransition('STARTING', 'RUNNING'));
  assert.ok(allowsTransition('STARTING', 'CRASHED'));
  assert.ok(allowsTransition('RUNNING', 'STOPPED'));
  assert.ok(allowsTransition('RUNNING', 'RUNNING'), 'a refresh of the same state');
  assert.equal(allowsTransition('RUNNING', 'STARTING'), false);
  assert.equal(allowsTransition('CRASHED', 'RUNNING'), false);
  assert.equal(allowsTransition('STOPPED', 'RUNNING'), false);
});
