import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { AppLimiter, targetKey, type Refusal, type Ticket } from './app-limiter';

/** One request at the limiter, and what happened to it. */
interface Probe {
  ticket: Ticket;
  admitted: boolean;
  refused?: Refusal;
}

function arrive(limiter: AppLimiter, key: string): Probe {
  const probe = { admitted: false } as Probe;
  probe.ticket = limiter.acquire(
    key,
    () => (probe.admitted = true),
    (reason) => (probe.refused = reason),
  );
  return probe;
}

describe('AppLimiter', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('admits up to maxInFlight at once, queues up to maxQueued, and refuses the next at once (queue-full)', () => {
    const limiter = new AppLimiter({ maxInFlight: 2, maxQueued: 1, queueTimeoutMs: 1_000 });
    const [a, b, c, d] = [0, 1, 2, 3].map(() => arrive(limiter, 'app'));
    assert.deepEqual([a, b, c, d].map((p) => p!.admitted), [true, true, false, false]);
    assert.equal(c!.refused, undefined, 'the third waits');
    assert.equal(d!.refused, 'queue-full', 'the fourth is refused without waiting');
    assert.equal(limiter.inFlight('app'), 2);
    assert.equal(limiter.queued('app'), 1);
  });

  it('hands a freed slot to the longest-waiting request, first come first served', () => {
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 5, queueTimeoutMs: 1_000 });
    const first = arrive(limiter, 'app');
    const waiting = [0, 1, 2].map(() => arrive(limiter, 'app'));
    first.ticket.release();
    assert.deepEqual(waiting.map((p) => p.admitted), [true, false, false]);
    waiting[0]!.ticket.release();
    assert.deepEqual(waiting.map((p) => p.admitted), [true, true, false]);
    assert.equal(limiter.inFlight('app'), 1);
    assert.equal(limiter.queued('app'), 1);
  });

  it('a newcomer does not jump the queue while requests wait, even if a slot is free for a moment', () => {
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 5, queueTimeoutMs: 1_000 });
    const first = arrive(limiter, 'app');
    const waiting = arrive(limiter, 'app');
    first.ticket.release();
    const late = arrive(limiter, 'app');
    assert.equal(waiting.admitted, true);
    assert.equal(late.admitted, false);
  });

  it('refuses a request that waited queueTimeoutMs (queue-timeout) and takes it out of the queue', () => {
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 1, queueTimeoutMs: 500 });
    const running = arrive(limiter, 'app');
    const waiting = arrive(limiter, 'app');
    mock.timers.tick(499);
    assert.equal(waiting.refused, undefined);
    mock.timers.tick(1);
    assert.equal(waiting.refused, 'queue-timeout');
    assert.equal(limiter.queued('app'), 0);
    // Its place is free again: the next one waits instead of being refused.
    const next = arrive(limiter, 'app');
    assert.equal(next.refused, undefined);
    running.ticket.release();
    assert.equal(next.admitted, true);
    assert.equal(waiting.admitted, false, 'a refused request is never admitted later');
  });

  it('a request released while it waits (its client left) is neither admitted nor refused, and leaks nothing', () => {
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 2, queueTimeoutMs: 500 });
    const running = arrive(limiter, 'app');
    const gone = arrive(limiter, 'app');
    gone.ticket.release();
    assert.equal(limiter.queued('app'), 0);
    mock.timers.tick(1_000);
    assert.equal(gone.refused, undefined, 'its timer went with it');
    running.ticket.release();
    assert.equal(gone.admitted, false);
    assert.equal(limiter.inFlight(), 0);
    assert.equal(limiter.size, 0, 'no idle key is kept');
  });

  it('releasing twice frees one slot only', () => {
    const limiter = new AppLimiter({ maxInFlight: 2, maxQueued: 0, queueTimeoutMs: 500 });
    const a = arrive(limiter, 'app');
    arrive(limiter, 'app');
    a.ticket.release();
    a.ticket.release();
    assert.equal(limiter.inFlight('app'), 1);
    assert.equal(arrive(limiter, 'app').admitted, true);
    assert.equal(arrive(limiter, 'app').refused, 'queue-full', 'the double release did not make room for a third');
  });

  it('keeps each target apart: a full app does not slow another', () => {
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 0, queueTimeoutMs: 500 });
    arrive(limiter, 'flood');
    assert.equal(arrive(limiter, 'flood').refused, 'queue-full');
    assert.equal(arrive(limiter, 'quiet').admitted, true);
    assert.equal(limiter.inFlight(), 2);
  });

  it('tells its observer of each refusal, with the target and the reason', () => {
    const seen: string[] = [];
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 1, queueTimeoutMs: 100 }, { refused: (key, reason) => seen.push(`${key}:${reason}`) });
    arrive(limiter, 'app');
    arrive(limiter, 'app');
    arrive(limiter, 'app');
    mock.timers.tick(100);
    assert.deepEqual(seen, ['app:queue-full', 'app:queue-timeout']);
  });

  it('admits everything when maxInFlight is 0 (off)', () => {
    const limiter = new AppLimiter({ maxInFlight: 0, maxQueued: 0, queueTimeoutMs: 100 });
    assert.equal(limiter.enabled, false);
    const all = [0, 1, 2, 3].map(() => arrive(limiter, 'app'));
    assert.ok(all.every((p) => p.admitted && p.refused === undefined));
  });
});

describe('targetKey', () => {
  it('is the app of a one-app route, and the sorted set of apps of a split one', () => {
    assert.equal(targetKey([{ appId: 'a1' }]), 'a1');
    assert.equal(targetKey([{ appId: 'b' }, { appId: 'a' }, { appId: 'b' }]), 'a+b');
  });
});
