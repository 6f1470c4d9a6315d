/** How many requests of one route target (app) may be in flight in this router process, and how many may wait. */
export interface AppLimits {
  /** Requests proxied at once per target at most, however many instances it has; 0 turns the limiter off. */
  maxInFlight: number;
  /**
   * Requests proxied at once per live instance of the target: its bound is this times its
   * instances, up to `maxInFlight`. 0: every target's bound is `maxInFlight`.
   */
  maxInFlightPerInstance: number;
  /** Requests waiting for a slot per target, first come first served; beyond it a request is refused at once. */
  maxQueued: number;
  /** A waiting request still without a slot after this long is refused. */
  queueTimeoutMs: number;
  /**
   * Event-loop utilization (0..1, the share of time the loop is not waiting for I/O) above which
   * the busiest target's bound is cut (halved, down to FAIR_SHARE_FLOOR); below GROW_BELOW of it
   * cut bounds grow back by one per measurement. 0: never cut.
   */
  cutAboveUtilization: number;
}

/**
 * Sensible for a small platform: an app needs a very slow backend or a flood to reach them. 32 a
 * instance (per router process) is more than one instance of a typical web app serves at once;
 * far more than that in one router process makes its event-loop turns long enough to delay every
 * other app's requests (bench:fairness).
 */
export const DEFAULT_APP_LIMITS: AppLimits = { maxInFlight: 256, maxInFlightPerInstance: 32, maxQueued: 64, queueTimeoutMs: 2_000, cutAboveUtilization: 0.5 };

/** A cut bound never goes below this: a target with fewer requests in flight is never cut. */
export const FAIR_SHARE_FLOOR = 2;

/** Cut bounds grow back while the utilization is below this share of `cutAboveUtilization`. */
export const GROW_BELOW = 0.8;

/** Why a request was refused: the queue was full on arrival, or it waited `queueTimeoutMs` in vain. */
export type Refusal = 'queue-full' | 'queue-timeout';

/** A request's place at the limiter: `release` when it is over (or its client left); twice is harmless. */
export interface Ticket {
  release(): void;
}

interface Waiter {
  admit: () => void;
  timer: NodeJS.Timeout;
}

interface Slot {
  inFlight: number;
  queue: Waiter[];
  /** The bound for the target's instances at its last request (`AppLimits`). */
  bound: number;
  /** The bound while it is cut below `bound` (the router's event loop was saturated). */
  cut?: number;
}

export interface AppLimiterObserver {
  refused?(key: string, reason: Refusal): void;
}

/**
 * A bound on the requests in flight per route target (one app, or the set of apps a split route
 * sends to), with a short FIFO queue in front of it, so one app's flood cannot take every slot of
 * the router's event loop from the others. Its instances set the ceiling; while the event loop
 * is saturated (`observeUtilization`), the busiest target's bound is cut multiplicatively and
 * grows back additively once the loop has idle time again (AIMD): requests of one app fast
 * enough to saturate the router wait in its queue, not in the event loop where every app's
 * requests wait. Single-threaded; every method may be called at any time. `acquire` calls
 * exactly one of `admit` (now or when a slot frees) or `refuse`, unless the ticket is released
 * first (the client left while waiting): then neither.
 */
export class AppLimiter {
  private readonly slots = new Map<string, Slot>();
  private queuedTotal = 0;
  private inFlightTotal = 0;
  /** Targets that had a request since the last `observeUtilization`. */
  private readonly recent = new Set<string>();

  constructor(
    readonly limits: AppLimits,
    private readonly observer: AppLimiterObserver = {},
  ) {}

  get enabled(): boolean {
    return this.limits.maxInFlight > 0;
  }

  /** `instances`: the target's live instances now (they set its bound, see `AppLimits`). */
  acquire(key: string, admit: () => void, refuse: (reason: Refusal) => void, instances = 1): Ticket {
    if (!this.enabled) {
      admit();
      return { release: () => undefined };
    }
    const bound = this.boundFor(instances);
    const slot = this.slots.get(key) ?? { inFlight: 0, queue: [], bound };
    this.slots.set(key, slot);
    if (slot.bound !== bound) {
      slot.bound = bound;
      if (slot.cut !== undefined && slot.cut >= bound) slot.cut = undefined;
      // More instances: waiting requests may take the new slots now.
      while (slot.queue.length > 0 && slot.inFlight < this.limitOf(slot)) this.next(key, slot);
    }
    this.recent.add(key);
    let state: 'running' | 'waiting' | 'done' = 'waiting';
    const start = () => {
      state = 'running';
      slot.inFlight += 1;
      this.inFlightTotal += 1;
      admit();
    };
    const ticket: Ticket = {
      release: () => {
        if (state === 'running') {
          slot.inFlight -= 1;
          this.inFlightTotal -= 1;
          this.next(key, slot);
        } else if (state === 'waiting') {
          this.dequeue(slot, start);
          this.forget(key, slot);
        }
        state = 'done';
      },
    };
    if (slot.inFlight < this.limitOf(slot) && slot.queue.length === 0) {
      start();
      return ticket;
    }
    if (slot.queue.length >= this.limits.maxQueued) {
      state = 'done';
      this.forget(key, slot);
      this.observer.refused?.(key, 'queue-full');
      refuse('queue-full');
      return ticket;
    }
    const queued: Waiter = {
      admit: start,
      timer: setTimeout(() => {
        if (state !== 'waiting') return;
        state = 'done';
        this.dequeue(slot, start);
        this.forget(key, slot);
        this.observer.refused?.(key, 'queue-timeout');
        refuse('queue-timeout');
      }, this.limits.queueTimeoutMs),
    };
    slot.queue.push(queued);
    this.queuedTotal += 1;
    return ticket;
  }

  /**
   * Feeds one measurement of the event loop's utilization (0..1, over the last interval): above
   * `cutAboveUtilization`, when more than one target had requests since the last call, the
   * busiest (most in flight, above FAIR_SHARE_FLOOR) has its bound halved; below GROW_BELOW of
   * it every cut bound grows by one and admits waiting requests, until it is the full bound again.
   * Meant to be called at a fixed interval (the router: every 50 ms).
   */
  observeUtilization(utilization: number): void {
    const { cutAboveUtilization: cutAbove } = this.limits;
    // Cutting the only app with traffic would give no one its share.
    const competing = new Set([...this.recent, ...this.slots.keys()]).size > 1;
    this.recent.clear();
    if (!this.enabled || cutAbove <= 0) return;
    if (utilization > cutAbove) {
      if (!competing) return;
      let busiest: Slot | undefined;
      for (const slot of this.slots.values()) if (!busiest || slot.inFlight > busiest.inFlight) busiest = slot;
      if (busiest && busiest.inFlight > FAIR_SHARE_FLOOR) busiest.cut = Math.max(FAIR_SHARE_FLOOR, Math.floor(Math.min(busiest.inFlight, this.limitOf(busiest)) / 2));
      return;
    }
    if (utilization >= cutAbove * GROW_BELOW) return;
    for (const [key, slot] of this.slots) {
      if (slot.cut === undefined) continue;
      slot.cut = slot.cut + 1 >= slot.bound ? undefined : slot.cut + 1;
      while (slot.queue.length > 0 && slot.inFlight < this.limitOf(slot)) this.next(key, slot);
    }
  }

  /** The bound of `key` right now (for `instances` when it has nothing in flight), or less while it is cut. */
  limit(key: string, instances = 1): number {
    const slot = this.slots.get(key);
    return slot ? this.limitOf(slot) : this.boundFor(instances);
  }

  /** Requests in flight for `key`, or for all targets (for tests and metrics). */
  inFlight(key?: string): number {
    return key === undefined ? this.inFlightTotal : (this.slots.get(key)?.inFlight ?? 0);
  }

  /** Requests waiting for `key`, or for all targets. */
  queued(key?: string): number {
    return key === undefined ? this.queuedTotal : (this.slots.get(key)?.queue.length ?? 0);
  }

  /** Targets whose bound is cut below their full bound right now. */
  cutTargets(): number {
    let n = 0;
    for (const slot of this.slots.values()) if (slot.cut !== undefined) n += 1;
    return n;
  }

  /** Targets with a request in flight or waiting (the map holds no idle ones). */
  get size(): number {
    return this.slots.size;
  }

  private limitOf(slot: Slot): number {
    return slot.cut ?? slot.bound;
  }

  private boundFor(instances: number): number {
    const { maxInFlight, maxInFlightPerInstance } = this.limits;
    return maxInFlightPerInstance > 0 ? Math.min(maxInFlight, maxInFlightPerInstance * Math.max(1, instances)) : maxInFlight;
  }

  /** A slot of `key` is free: the longest-waiting request takes it, if the bound allows. */
  private next(key: string, slot: Slot): void {
    if (slot.queue.length > 0 && slot.inFlight >= this.limitOf(slot)) return;
    const waiter = slot.queue.shift();
    if (waiter) {
      this.queuedTotal -= 1;
      clearTimeout(waiter.timer);
      waiter.admit();
    } else {
      this.forget(key, slot);
    }
  }

  /** Takes the waiter that `admit` belongs to out of the queue, if it is there. */
  private dequeue(slot: Slot, admit: () => void): void {
    const at = slot.queue.findIndex((w) => w.admit === admit);
    if (at < 0) return;
    clearTimeout(slot.queue[at]!.timer);
    slot.queue.splice(at, 1);
    this.queuedTotal -= 1;
  }

  private forget(key: string, slot: Slot): void {
    if (slot.inFlight === 0 && slot.queue.length === 0 && this.slots.get(key) === slot) this.slots.delete(key);
  }
}

/** The limiter key of a route: the app it targets, or its apps, sorted, when it splits traffic. */
export function targetKey(destinations: readonly { appId: string }[]): string {
  if (destinations.length === 1) return destinations[0]!.appId;
  return [...new Set(destinations.map((d) => d.appId))].sort().join('+');
}
