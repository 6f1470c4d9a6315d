import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { AppLimiter, FAIR_SHARE_FLOOR, targetKey, type Refusal, type Ticket } from './app-limiter';

/** One request at the limiter, and what happened to it. */
interface Probe {
  ticket: Ticket;
  admitted: boolean;
  refused?: Refusal;
}

function arrive(limiter: AppLimiter, key: string, instances?: number): Probe {
  const probe = { admitted: false } as Probe;
  probe.ticket = limiter.acquire(
    key,
    () => (probe.admitted = true),
    (reason) => (probe.refused = reason),
    instances,
  );
  return probe;
}

describe('AppLimiter', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('admits up to maxInFlight at once, queues up to maxQueued, and refuses the next at once (queue-full)', () => {
    const limiter = new AppLimiter({ maxInFlight: 2, maxQueued: 1, queueTimeoutMs: 1_000, maxInFlightPerInstance: 0, cutAboveUtilization: 0 });
    const [a, b, c, d] = [0, 1, 2, 3].map(() => arrive(limiter, 'app'));
    assert.deepEqual([a, b, c, d].map((p) => p!.admitted), [true, true, false, false]);
    assert.equal(c!.refused, undefined, 'the third waits');
    assert.equal(d!.refused, 'queue-full', 'the fourth is refused without waiting');
    assert.equal(limiter.inFlight('app'), 2);
    assert.equal(limiter.queued('app'), 1);
  });

  it('hands a freed slot to the longest-waiting request, first come first served', () => {
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 5, queueTimeoutMs: 1_000, maxInFlightPerInstance: 0, cutAboveUtilization: 0 });
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
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 5, queueTimeoutMs: 1_000, maxInFlightPerInstance: 0, cutAboveUtilization: 0 });
    const first = arrive(limiter, 'app');
    const waiting = arrive(limiter, 'app');
    first.ticket.release();
    const late = arrive(limiter, 'app');
    assert.equal(waiting.admitted, true);
    assert.equal(late.admitted, false);
  });

  it('refuses a request that waited queueTimeoutMs (queue-timeout) and takes it out of the queue', () => {
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 1, queueTimeoutMs: 500, maxInFlightPerInstance: 0, cutAboveUtilization: 0 });
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
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 2, queueTimeoutMs: 500, maxInFlightPerInstance: 0, cutAboveUtilization: 0 });
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
    const limiter = new AppLimiter({ maxInFlight: 2, maxQueued: 0, queueTimeoutMs: 500, maxInFlightPerInstance: 0, cutAboveUtilization: 0 });
    const a = arrive(limiter, 'app');
    arrive(limiter, 'app');
    a.ticket.release();
    a.ticket.release();
    assert.equal(limiter.inFlight('app'), 1);
    assert.equal(arrive(limiter, 'app').admitted, true);
    assert.equal(arrive(limiter, 'app').refused, 'queue-full', 'the double release did not make room for a third');
  });

  it('keeps each target apart: a full app does not slow another', () => {
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 0, queueTimeoutMs: 500, maxInFlightPerInstance: 0, cutAboveUtilization: 0 });
    arrive(limiter, 'flood');
    assert.equal(arrive(limiter, 'flood').refused, 'queue-full');
    assert.equal(arrive(limiter, 'quiet').admitted, true);
    assert.equal(limiter.inFlight(), 2);
  });

  it('tells its observer of each refusal, with the target and the reason', () => {
    const seen: string[] = [];
    const limiter = new AppLimiter({ maxInFlight: 1, maxQueued: 1, queueTimeoutMs: 100, maxInFlightPerInstance: 0, cutAboveUtilization: 0 }, { refused: (key, reason) => seen.push(`${key}:${reason}`) });
    arrive(limiter, 'app');
    arrive(limiter, 'app');
    arrive(limiter, 'app');
    mock.timers.tick(100);
    assert.deepEqual(seen, ['app:queue-full', 'app:queue-timeout']);
  });

  it('bounds a target by its live instances (per-instance bound times instances, up to maxInFlight), and admits waiters when instances are added', () => {
    const limiter = new AppLimiter({ maxInFlight: 5, maxInFlightPerInstance: 2, maxQueued: 10, queueTimeoutMs: 1_000, cutAboveUtilization: 0 });
    const one = [0, 1, 2].map(() => arrive(limiter, 'app', 1));
    assert.deepEqual(one.map((p) => p.admitted), [true, true, false], 'one instance: 2 at once');
    assert.equal(limiter.limit('app'), 2);
    const two = arrive(limiter, 'app', 2);
    assert.ok(one[2]!.admitted, 'a second instance gives the waiting request its slot');
    assert.equal(two.admitted, true);
    assert.equal(limiter.inFlight('app'), 4);
    const many = [0, 1].map(() => arrive(limiter, 'app', 10));
    assert.deepEqual(many.map((p) => p.admitted), [true, false], 'ten instances: still maxInFlight (5) at most');
    assert.equal(limiter.limit('app'), 5);
    assert.equal(limiter.limit('other', 2), 4, 'an idle target: the bound for its instances');
    assert.equal(limiter.limit('other', 0), 2, 'no instance counts as one');
  });

  it('admits everything when maxInFlight is 0 (off)', () => {
    const limiter = new AppLimiter({ maxInFlight: 0, maxQueued: 0, queueTimeoutMs: 100, maxInFlightPerInstance: 0, cutAboveUtilization: 0 });
    assert.equal(limiter.enabled, false);
    const all = [0, 1, 2, 3].map(() => arrive(limiter, 'app'));
    assert.ok(all.every((p) => p.admitted && p.refused === undefined));
  });
});

describe('AppLimiter while the event loop is saturated', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());
  const limits = { maxInFlight: 64, maxQueued: 100, queueTimeoutMs: 10_000, maxInFlightPerInstance: 0, cutAboveUtilization: 0.9 };

  it('halves the bound of the busiest target while the loop is saturated, never below the floor, and leaves a quiet one alone', () => {
    const limiter = new AppLimiter(limits);
    const flood = Array.from({ length: 64 }, () => arrive(limiter, 'flood'));
    const quiet = [arrive(limiter, 'quiet'), arrive(limiter, 'quiet')];
    limiter.observeUtilization(1);
    assert.equal(limiter.limit('flood'), 32);
    assert.equal(limiter.limit('quiet'), 64, 'the quiet app keeps its bound');
    for (let i = 0; i < 10; i++) limiter.observeUtilization(0.95);
    assert.equal(limiter.limit('flood'), FAIR_SHARE_FLOOR);
    // The cut takes effect as slots free: none is taken from a running request.
    assert.equal(limiter.inFlight('flood'), 64);
    for (const p of flood.slice(0, 63)) p.ticket.release();
    const late = arrive(limiter, 'flood');
    assert.equal(late.admitted, true, 'below the cut bound (1 of 2 in flight) a request runs');
    for (let i = 0; i < 3; i++) arrive(limiter, 'flood');
    assert.equal(limiter.inFlight('flood'), FAIR_SHARE_FLOOR);
    assert.equal(limiter.queued('flood'), 3, 'beyond the cut bound requests wait');
    assert.ok(quiet.every((p) => p.admitted));
  });

  it('never cuts the only target with traffic: no other app waits for its share', () => {
    const limiter = new AppLimiter(limits);
    for (let i = 0; i < 30; i++) arrive(limiter, 'app');
    limiter.observeUtilization(1);
    assert.equal(limiter.limit('app'), 64);
    arrive(limiter, 'other').ticket.release(); // one request of another app since the last measurement
    limiter.observeUtilization(1);
    assert.equal(limiter.limit('app'), 15, 'half of what it has in flight');
  });

  it('never cuts a target with no more than the floor in flight', () => {
    const limiter = new AppLimiter(limits);
    arrive(limiter, 'other');
    for (let i = 0; i < FAIR_SHARE_FLOOR; i++) arrive(limiter, 'app');
    limiter.observeUtilization(1);
    assert.equal(limiter.limit('app'), 64);
    assert.equal(limiter.cutTargets(), 0);
  });

  it('grows a cut bound back by one per idle-enough measurement, admitting waiting requests, until it is whole again', () => {
    const limiter = new AppLimiter(limits);
    const running = Array.from({ length: 20 }, () => arrive(limiter, 'app'));
    arrive(limiter, 'other');
    limiter.observeUtilization(1);
    assert.equal(limiter.limit('app'), 10);
    for (const p of running.slice(0, 12)) p.ticket.release(); // 8 left in flight
    const waiting = Array.from({ length: 4 }, () => arrive(limiter, 'app'));
    assert.deepEqual(waiting.map((p) => p.admitted), [true, true, false, false]);
    limiter.observeUtilization(0.8); // between 80% of the threshold and the threshold: hold
    assert.equal(limiter.limit('app'), 10);
    limiter.observeUtilization(0.3);
    assert.equal(limiter.limit('app'), 11);
    assert.deepEqual(waiting.map((p) => p.admitted), [true, true, true, false]);
    for (let i = 0; i < 60; i++) limiter.observeUtilization(0.1);
    assert.equal(limiter.limit('app'), 64);
    assert.equal(limiter.cutTargets(), 0);
    assert.ok(waiting.every((p) => p.admitted));
  });

  it('never cuts when cutAboveUtilization is 0', () => {
    const limiter = new AppLimiter({ ...limits, cutAboveUtilization: 0 });
    for (let i = 0; i < 30; i++) arrive(limiter, 'app');
    arrive(limiter, 'other');
    limiter.observeUtilization(1);
    assert.equal(limiter.limit('app'), 64);
  });
});

describe('targetKey', () => {
  it('is the app of a one-app route, and the sorted set of apps of a split one', () => {
    assert.equal(targetKey([{ appId: 'a1' }]), 'a1');
    assert.equal(targetKey([{ appId: 'b' }, { appId: 'a' }, { appId: 'b' }]), 'a+b');
  });
});
