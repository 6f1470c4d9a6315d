/** How many requests of one route target (app) may be in flight in this router process, and how many may wait. */
export interface AppLimits {
  /** Requests proxied at once per target; 0 turns the limiter off. */
  maxInFlight: number;
  /** Requests waiting for a slot per target, first come first served; beyond it a request is refused at once. */
  maxQueued: number;
  /** A waiting request still without a slot after this long is refused. */
  queueTimeoutMs: number;
}

/** Sensible for a small platform: an app needs a very slow backend or a flood to reach them. */
export const DEFAULT_APP_LIMITS: AppLimits = { maxInFlight: 128, maxQueued: 64, queueTimeoutMs: 2_000 };

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
}

export interface AppLimiterObserver {
  refused?(key: string, reason: Refusal): void;
}

/**
 * A bound on the requests in flight per route target (one app, or the set of apps a split route
 * sends to), with a short FIFO queue in front of it, so one app's flood cannot take every slot of
 * the router's event loop from the others. Single-threaded; every method may be called at any
 * time. `acquire` calls exactly one of `admit` (now or when a slot frees) or `refuse`, unless the
 * ticket is released first (the client left while waiting): then neither.
 */
export class AppLimiter {
  private readonly slots = new Map<string, Slot>();
  private queuedTotal = 0;
  private inFlightTotal = 0;

  constructor(
    readonly limits: AppLimits,
    private readonly observer: AppLimiterObserver = {},
  ) {}

  get enabled(): boolean {
    return this.limits.maxInFlight > 0;
  }

  acquire(key: string, admit: () => void, refuse: (reason: Refusal) => void): Ticket {
    if (!this.enabled) {
      admit();
      return { release: () => undefined };
    }
    const slot = this.slots.get(key) ?? { inFlight: 0, queue: [] };
    this.slots.set(key, slot);
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
    if (slot.inFlight < this.limits.maxInFlight && slot.queue.length === 0) {
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

  /** Requests in flight for `key` (for tests and metrics). */
  inFlight(key?: string): number {
    return key === undefined ? this.inFlightTotal : (this.slots.get(key)?.inFlight ?? 0);
  }

  /** Requests waiting for `key`, or for all targets. */
  queued(key?: string): number {
    return key === undefined ? this.queuedTotal : (this.slots.get(key)?.queue.length ?? 0);
  }

  /** Targets with a request in flight or waiting (the map holds no idle ones). */
  get size(): number {
    return this.slots.size;
  }

  private next(key: string, slot: Slot): void {
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
