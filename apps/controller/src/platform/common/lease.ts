import type { Redis } from 'ioredis';
import { leaseHeld } from '@paas/redis';

/**
 * Tells when the holder of a lease is gone: a key missing once may be a Redis that restarted
 * empty (its holder sets it again within a third of the TTL), so the lease counts as lost only
 * when it is still missing at least half a TTL after it was first seen missing. One instance per
 * sweeper; `seen` with the ids still to watch forgets the others.
 */
export class LostLeases {
  private readonly missingSince = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the lease at `key` (of work `id`) is lost: missing now and since half a TTL. */
  async lost(id: string, key: string): Promise<boolean> {
    if (await leaseHeld(this.redis, key)) {
      this.missingSince.delete(id);
      return false;
    }
    const first = this.missingSince.get(id);
    if (first === undefined) {
      this.missingSince.set(id, this.now());
      return false;
    }
    return this.now() - first >= this.ttlMs / 2;
  }

  /** Drops what is known of work no longer watched (ended, or not a candidate any more). */
  keepOnly(ids: Iterable<string>): void {
    const keep = new Set(ids);
    for (const id of this.missingSince.keys()) if (!keep.has(id)) this.missingSince.delete(id);
  }
}
