import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppLogRateLimiter, rateLimitMarker } from './app-log-limiter';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('an app may write its burst at once, then its rate; the rest is counted as dropped', () => {
  const c = clock();
  const limiter = new AppLogRateLimiter({ ratePerSecond: 10, burst: 5, clock: c.now });
  const taken = Array.from({ length: 8 }, () => limiter.take('a'));
  assert.deepEqual(taken, [true, true, true, true, true, false, false, false]);
  c.advance(100); // one token
  assert.equal(limiter.take('a'), true);
  assert.equal(limiter.take('a'), false);
  c.advance(10_000); // refills to the burst, not beyond
  assert.equal(Array.from({ length: 7 }, () => limiter.take('a')).filter(Boolean).length, 5);
});

test('apps have buckets of their own: a chatty app does not starve a quiet one', () => {
  const c = clock();
  const limiter = new AppLogRateLimiter({ ratePerSecond: 1, burst: 2, clock: c.now });
  for (let i = 0; i < 100; i++) limiter.take('chatty');
  assert.equal(limiter.take('quiet'), true);
  assert.equal(limiter.take('quiet'), true);
});

test('drops are reported once per window and app, then counting starts again', () => {
  const c = clock();
  const limiter = new AppLogRateLimiter({ ratePerSecond: 1, burst: 1, windowMs: 5_000, clock: c.now });
  limiter.take('a');
  for (let i = 0; i < 4; i++) limiter.take('a');
  assert.deepEqual(limiter.due(), [], 'the window is not over');
  c.advance(4_999);
  assert.deepEqual(limiter.due(), []);
  c.advance(1);
  assert.deepEqual(limiter.due(), [{ appId: 'a', dropped: 4, windowMs: 5_000 }]);
  assert.deepEqual(limiter.due(), [], 'reported once');
  c.advance(10);
  assert.equal(limiter.take('a'), true, 'refilled meanwhile');
  assert.equal(limiter.take('a'), false);
  c.advance(100);
  assert.deepEqual(limiter.due(true), [{ appId: 'a', dropped: 1, windowMs: 100 }], 'all: the open window too (shutdown)');
});

test('idle apps whose bucket is full again are forgotten', () => {
  const c = clock();
  const limiter = new AppLogRateLimiter({ ratePerSecond: 10, burst: 10, clock: c.now });
  limiter.take('a');
  limiter.take('b');
  assert.equal(limiter.size, 2);
  c.advance(50);
  limiter.due();
  assert.equal(limiter.size, 2, 'not full yet');
  c.advance(100);
  limiter.due();
  assert.equal(limiter.size, 0);
});

test('the marker line says how many lines went, over which time, and the limit', () => {
  assert.equal(
    rateLimitMarker({ appId: 'a', dropped: 1234, windowMs: 5_020 }, { ratePerSecond: 200, burst: 1000 }, 'cell cell-1'),
    'app log rate limit: 1234 lines dropped in the last 5 s (cell cell-1 writes at most 200 lines/s per app, bursts of 1000)',
  );
  assert.match(rateLimitMarker({ appId: 'a', dropped: 1, windowMs: 10 }, { ratePerSecond: 1, burst: 1 }, 'x'), /1 line dropped in the last 1 s/);
});
