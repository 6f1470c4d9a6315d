import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeExit } from './exit-reason';

test('a crash reason names the exit status, the signal, or the out-of-memory kill', () => {
  assert.equal(describeExit({ status: 3, oomKilled: false }), 'exited with status 3');
  assert.equal(describeExit({ status: 0, oomKilled: false }), 'exited with status 0');
  assert.equal(describeExit({ status: 128, oomKilled: false }), 'exited with status 128');
  assert.equal(describeExit({ status: 137, oomKilled: false }), 'killed by signal 9 (SIGKILL)');
  assert.equal(describeExit({ status: 143, oomKilled: false }), 'killed by signal 15 (SIGTERM)');
  assert.equal(describeExit({ status: 139, oomKilled: false }), 'killed by signal 11 (SIGSEGV)');
  assert.equal(describeExit({ status: 255, oomKilled: false }), 'exited with status 255');
  assert.equal(describeExit({ status: 137, oomKilled: true }, 64), 'out of memory (killed at its 64 MB limit)');
  assert.equal(describeExit({ oomKilled: true }), 'out of memory (killed)');
  assert.equal(describeExit({ oomKilled: false }), 'exited (its status is unknown)');
});
