/** The log line shape: the message is the kebab-case event, a sentence goes to `detail`. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventOfMessage, toEventLogArgs } from './log-line';

describe('toEventLogArgs', () => {
  it('makes the event the message and keeps the sentence as detail', () => {
    assert.deepEqual(toEventLogArgs([{ event: 'router-stopping', reason: 'SIGTERM' }, 'stopping router']), [
      { event: 'router-stopping', reason: 'SIGTERM', detail: 'stopping router' },
      'router-stopping',
    ]);
  });

  it('takes a kebab-case message as the event', () => {
    assert.deepEqual(toEventLogArgs([{ cell: 'c1' }, 'cell-started']), [{ cell: 'c1', event: 'cell-started' }, 'cell-started']);
    assert.deepEqual(toEventLogArgs(['cell-started']), [{ event: 'cell-started' }, 'cell-started']);
  });

  it('leaves a line already in shape as it is (same fields object)', () => {
    const fields = { event: 'access', status: 200 };
    const out = toEventLogArgs([fields, 'access']);
    assert.equal(out[0], fields);
    assert.equal(out[1], 'access');
    assert.deepEqual(toEventLogArgs([{ event: 'access' }]), [{ event: 'access' }, 'access']);
  });

  it('derives the event of a sentence without one, keeping the sentence as detail', () => {
    assert.deepEqual(toEventLogArgs([{ file: '/x' }, 'created the admin token']), [
      { file: '/x', event: 'created-the-admin-token', detail: 'created the admin token' },
      'created-the-admin-token',
    ]);
    assert.equal(eventOfMessage('Redis is back: re-reporting presence!'), 'redis-is-back-re-reporting-presence');
    assert.equal(eventOfMessage('???'), 'log');
    assert.ok(eventOfMessage('a long sentence '.repeat(10)).length <= 64);
  });

  it('puts an Error first argument under err', () => {
    const err = new Error('boom');
    assert.deepEqual(toEventLogArgs([err, 'tick-failed']), [{ err, event: 'tick-failed' }, 'tick-failed']);
  });

  it('leaves a call with neither event nor message alone', () => {
    assert.deepEqual(toEventLogArgs([{ a: 1 }]), [{ a: 1 }]);
  });
});
