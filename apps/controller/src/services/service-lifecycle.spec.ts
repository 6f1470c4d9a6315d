import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCreated, isIdle, operationPhrase } from './service-lifecycle';

const op = (operationType: string, operationState: string) => ({ operationType, operationState });

test('an instance is created once its create succeeded, through updates whatever their outcome, until it is deleted', () => {
  assert.equal(isCreated(op('create', 'in progress')), false);
  assert.equal(isCreated(op('create', 'failed')), false);
  assert.equal(isCreated(op('create', 'succeeded')), true);
  for (const state of ['in progress', 'succeeded', 'failed']) {
    assert.equal(isCreated(op('update', state)), true, `update ${state}: the server exists (a failed update keeps the old plan)`);
    assert.equal(isCreated(op('delete', state)), false, `delete ${state}`);
  }
});

test('idle: created with no operation in progress (what bindings, keys and resizes wait for)', () => {
  assert.equal(isIdle(op('create', 'succeeded')), true);
  assert.equal(isIdle(op('update', 'succeeded')), true);
  assert.equal(isIdle(op('update', 'failed')), true);
  assert.equal(isIdle(op('update', 'in progress')), false);
  assert.equal(isIdle(op('create', 'failed')), false);
  assert.equal(operationPhrase(op('update', 'in progress')), 'its update is in progress');
  assert.equal(operationPhrase(op('create', 'failed')), 'its create failed');
});
