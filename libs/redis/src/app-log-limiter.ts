export interface AppLogRateLimitOptions {
  /** Lines per second an app may write (tokens added per second). */
  ratePerSecond: number;
  /** Lines an app may write at once (the bucket's size; a new app starts with a full bucket). */
  burst: number;
  /** Drops are reported (one marker line per app) once this long has passed since the first of them. Default 5 s. */
  windowMs?: number;
  /** Injected for tests; Date.now by default. */
  clock?: () => number;
}

/** Lines of one app dropped during one window. */
export interface DroppedLines {
  appId: string;
  dropped: number;
  /** From the first dropped line to the report, in ms. */
  windowMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
  dropped: number;
  firstDropAt?: number;
}

/**
 * A token bucket per app, so one chatty app cannot starve the others of a cell's (or a router's)
 * log shipping: `take` says whether a line may be written and counts the ones that may not;
 * `due` reports, once per window and app, how many were dropped (for a marker line). Apps whose
 * bucket is full again and that dropped nothing are forgotten by `due`, so memory follows the
 * apps that log. Pure apart from the clock; not shared across processes.
 */
export class AppLogRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly windowMs: number;
  private readonly clock: () => number;

  constructor(private readonly options: AppLogRateLimitOptions) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) throw new Error('a rate limit needs ratePerSecond > 0 and burst >= 1');
    this.windowMs = options.windowMs ?? 5_000;
    this.clock = options.clock ?? Date.now;
  }

  /** True when the app may write one more line now; false counts it as dropped. */
  take(appId: string): boolean {
    const now = this.clock();
    let bucket = this.buckets.get(appId);
    if (!bucket) {
      bucket = { tokens: this.options.burst, at: now, dropped: 0 };
      this.buckets.set(appId, bucket);
    } else {
      this.refill(bucket, now);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    bucket.dropped += 1;
    bucket.firstDropAt ??= now;
    return false;
  }

  /**
   * The drop counts whose window is over (all of them with `all`, e.g. at shutdown), each
   * reported once; forgets idle apps.
   */
  due(all = false): DroppedLines[] {
    const now = this.clock();
    const out: DroppedLines[] = [];
    for (const [appId, bucket] of this.buckets) {
      if (bucket.dropped > 0) {
        const since = bucket.firstDropAt ?? now;
        if (all || now - since >= this.windowMs) {
          out.push({ appId, dropped: bucket.dropped, windowMs: Math.max(0, now - since) });
          bucket.dropped = 0;
          bucket.firstDropAt = undefined;
        }
      } else {
        this.refill(bucket, now);
        if (bucket.tokens >= this.options.burst) this.buckets.delete(appId);
      }
    }
    return out;
  }

  /** Apps with a bucket (tests, metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + (elapsed * this.options.ratePerSecond) / 1000);
    bucket.at = now;
  }
}

/** The marker line written for the dropped lines of one window. */
export function rateLimitMarker(dropped: DroppedLines, limit: { ratePerSecond: number; burst: number }, where: string): string {
  const seconds = Math.max(1, Math.round(dropped.windowMs / 1000));
  return (
    `app log rate limit: ${dropped.dropped} line${dropped.dropped === 1 ? '' : 's'} dropped in the last ${seconds} s ` +
    `(${where} writes at most ${limit.ratePerSecond} lines/s per app, bursts of ${limit.burst})`
  );
}
