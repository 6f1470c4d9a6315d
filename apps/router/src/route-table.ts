import { normalizeHost, type RouteEndpoint } from '@paas/contracts';

/** Milliseconds since the epoch; injected so tests can move time without sleeping. */
export type Clock = () => number;

/**
 * What the table knows about a host: `unknown` (no route at all: 404), `no-live-endpoint`
 * (the route exists but every endpoint is gone or expired: 503) or the live endpoints.
 */
export type RouteLookup =
  | { kind: 'unknown' }
  | { kind: 'no-live-endpoint' }
  | { kind: 'live'; endpoints: readonly RouteEndpoint[] };

interface HostEntry {
  endpoints: readonly RouteEndpoint[];
  /** Round-robin cursor. */
  next: number;
  /** instanceId -> epoch ms until which a failed endpoint is passed over. */
  failedUntil: Map<string, number>;
}

/** How long an endpoint that refused a connection is passed over (gorouter does the same). */
export const FAILED_ENDPOINT_COOLDOWN_MS = 10_000;

/**
 * The router's in-memory route table: host -> endpoints, as last read from Redis. Hosts are
 * normalised (lowercase, no port, no trailing dot) on every way in. Endpoints past their
 * `expiresAt` stay stored until the next reload but are never handed out. Synchronous and
 * single-threaded: every method is safe to call at any time, in any order.
 */
export class RouteTable {
  private readonly hosts = new Map<string, HostEntry>();

  constructor(
    private readonly clock: Clock = Date.now,
    private readonly failureCooldownMs = FAILED_ENDPOINT_COOLDOWN_MS,
  ) {}

  /** Replaces all endpoints of one host; an empty list keeps the host known (503, not 404). */
  replaceHost(host: string, endpoints: readonly RouteEndpoint[]): void {
    const key = normalizeHost(host);
    const previous = this.hosts.get(key);
    const failedUntil = new Map<string, number>();
    for (const e of endpoints) {
      const until = previous?.failedUntil.get(e.instanceId);
      if (until !== undefined) failedUntil.set(e.instanceId, until);
    }
    this.hosts.set(key, { endpoints: [...endpoints], next: previous?.next ?? 0, failedUntil });
  }

  /**
   * Records that an endpoint could not be reached: `pick` passes it over for the cooldown,
   * unless every other endpoint is failing too.
   */
  markFailed(host: string, instanceId: string): void {
    this.hosts.get(normalizeHost(host))?.failedUntil.set(instanceId, this.clock() + this.failureCooldownMs);
  }

  /** Forgets a host entirely: requests for it get 404 again. */
  removeHost(host: string): void {
    this.hosts.delete(normalizeHost(host));
  }

  hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  get size(): number {
    return this.hosts.size;
  }

  lookup(host: string): RouteLookup {
    const entry = this.hosts.get(normalizeHost(host));
    if (!entry) return { kind: 'unknown' };
    const now = this.clock();
    const live = entry.endpoints.filter((e) => e.expiresAt > now);
    return live.length === 0 ? { kind: 'no-live-endpoint' } : { kind: 'live', endpoints: live };
  }

  /**
   * The next live endpoint of `host` in round-robin order, skipping the instance ids in
   * `exclude` (those a retry already tried) and, while others are healthy, recently failed ones;
   * undefined when none is left. Retries (a non-empty `exclude`) do not move the cursor, so a
   * failing endpoint does not skew the rotation of the others.
   */
  pick(host: string, exclude: ReadonlySet<string> = new Set()): RouteEndpoint | undefined {
    const entry = this.hosts.get(normalizeHost(host));
    if (!entry) return undefined;
    const now = this.clock();
    const live = entry.endpoints.filter((e) => e.expiresAt > now && !exclude.has(e.instanceId));
    const healthy = live.filter((e) => (entry.failedUntil.get(e.instanceId) ?? 0) <= now);
    const candidates = healthy.length > 0 ? healthy : live;
    if (candidates.length === 0) return undefined;
    const chosen = candidates[entry.next % candidates.length];
    if (exclude.size === 0) entry.next = (entry.next + 1) % Number.MAX_SAFE_INTEGER;
    return chosen;
  }
}
