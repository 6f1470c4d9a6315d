import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { abortableSleep, CanceledError, CancelWatch, cancelRequest, cancelRequester } from './cancel-watch';

/** Just the one call CancelWatch makes. */
function fakeRedis(values: Map<string, string>): Redis {
  return { get: async (key: string) => values.get(key) ?? null } as unknown as Redis;
}

test('cancelRequester reads who asked, and tolerates a malformed value', () => {
  assert.equal(cancelRequester(cancelRequest('alice', new Date(0))), 'alice');
  assert.equal(cancelRequester('{}'), 'someone');
  assert.equal(cancelRequester('not json'), 'someone');
});

test('CancelWatch: check() passes until the key appears, then throws; the signal aborts from polling', async () => {
  const values = new Map<string, string>();
  const watch = new CancelWatch(fakeRedis(values), 'k', 10);
  await watch.check();
  assert.equal(watch.signal.aborted, false);
  watch.start();
  values.set('k', cancelRequest('bob'));
  // The watch's own timer is unref'd (it never holds a controller open): this bounded, ref'd wait
  // keeps the test process alive until the abort comes.
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error('the watch did not abort within 2 s')), 2_000);
    watch.signal.addEventListener('abort', () => (clearTimeout(deadline), resolve()), { once: true });
  });
  assert.equal(watch.by, 'bob');
  assert.ok(watch.signal.reason instanceof CanceledError);
  await assert.rejects(() => watch.check(), /canceled by bob/);
  watch.stop();
});

test('abortableSleep resolves after its time, or rejects at once with the signal reason', async () => {
  await abortableSleep(5);
  const controller = new AbortController();
  const sleeping = abortableSleep(60_000, controller.signal);
  controller.abort(new CanceledError('carol'));
  await assert.rejects(sleeping, /canceled by carol/);
  await assert.rejects(abortableSleep(10, controller.signal), /canceled by carol/);
});
