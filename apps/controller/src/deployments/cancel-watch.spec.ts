import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { redisKeys } from '@paas/contracts';
import { cancelRequest } from '@paas/redis';
import { abortableSleep, CanceledError, CancelWatch } from './cancel-watch';

/** Just the one call CancelWatch makes. */
function fakeRedis(values: Map<string, string>): Redis {
  return { get: async (key: string) => values.get(key) ?? null } as unknown as Redis;
}

test('CancelWatch: check() passes until the key appears, then throws; the signal aborts from polling', async () => {
  const values = new Map<string, string>();
  const keys = redisKeys('t:');
  const watch = new CancelWatch(fakeRedis(values), keys, 'd1', 10);
  await watch.check();
  assert.equal(watch.signal.aborted, false);
  watch.start();
  values.set(keys.deployCancel('d1'), cancelRequest('bob'));
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
