/** pollUntil: returns the first value, retries a throwing check, times out naming what it saw. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pollUntil, StopPolling } from './poll-until';

describe('pollUntil', () => {
  it('returns the first value that is not undefined, null or false', async () => {
    let calls = 0;
    const results = [undefined, null, false];
    const value = await pollUntil('a value', () => (calls < 3 ? results[calls++] : { calls: ++calls }), { timeoutMs: 2_000, intervalMs: 5 });
    assert.deepEqual(value, { calls: 4 });
  });

  it('takes 0 and the empty string as values', async () => {
    assert.equal(await pollUntil('zero', async () => 0, { timeoutMs: 100 }), 0);
    assert.equal(await pollUntil('empty', () => '', { timeoutMs: 100 }), '');
  });

  it('times out naming what it waited for and the last value', async () => {
    const started = Date.now();
    await assert.rejects(pollUntil('the moon', async () => false, { timeoutMs: 150, intervalMs: 20 }), /timed out after 150 ms waiting for the moon \(last value: false\)/);
    const took = Date.now() - started;
    assert.ok(took >= 100 && took < 1_000, `gave up after ${took} ms`);
  });

  it('retries a check that throws and surfaces the last error', async () => {
    let calls = 0;
    const value = await pollUntil('a flaky check', () => {
      if (++calls < 3) throw new Error(`not yet ${calls}`);
      return 'ok';
    }, { timeoutMs: 2_000, intervalMs: 5 });
    assert.equal(value, 'ok');
    await assert.rejects(
      pollUntil('a broken check', () => {
        throw new Error(`refused ${++calls}`);
      }, { timeoutMs: 100, intervalMs: 10 }),
      (error: Error) => /waiting for a broken check \(last error: refused \d+\)/.test(error.message),
    );
  });

  it('fails at once on StopPolling, with its reason', async () => {
    let calls = 0;
    const started = Date.now();
    await assert.rejects(
      pollUntil('a refused login', () => {
        calls++;
        throw new StopPolling(new Error('login refused'));
      }, { timeoutMs: 5_000 }),
      /^Error: login refused$/,
    );
    assert.equal(calls, 1);
    assert.ok(Date.now() - started < 1_000);
  });
});
