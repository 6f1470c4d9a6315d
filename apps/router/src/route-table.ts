import {
  canonicalRoutePath,
  endpointSetKey,
  normalizeHost,
  pathMatches,
  type Endpoint,
  type RouteDestinationEntry,
  type RouteEntry,
} from '@paas/contracts';
import { RouteBalancer, type DestinationCandidates, type EndpointChoice } from './route-balancer';

/** Milliseconds since the epoch; injected so tests can move time without sleeping. */
export type Clock = () => number;

/** One route of a host as the table holds it. Handed out by `lookup`, passed back to `pick`. */
export interface Route {
  readonly routeId: string;
  /** Normalised host. */
  readonly host: string;
  /** '' for the whole host, else a prefix like '/api'. */
  readonly path: string;
  readonly destinations: readonly RouteDestinationEntry[];
  /** Plain-HTTP requests get a 308 to https (RouteEntry.httpsRedirect). */
  readonly httpsRedirect: boolean;
  /** Strict-Transport-Security max-age (s) on HTTPS responses; undefined: none. */
  readonly hstsMaxAge: number | undefined;
  /** Weighted round-robin state; carried over when the host is reloaded. */
  readonly balancer: RouteBalancer;
}

/**
 * What the table says about a request:
 * - `unknown`: no route for the host (404);
 * - `no-matching-path`: the host has routes, none matching the path (404);
 * - `no-destination`: the route is bound to no app (404);
 * - `no-live-endpoint`: no destination has a live (unexpired) endpoint (503);
 * - `live`: the route to `pick` from, and how many live instances it has.
 */
export type RouteLookup =
  | { kind: 'unknown' }
  | { kind: 'no-matching-path' }
  | { kind: 'no-destination'; route: Route }
  | { kind: 'no-live-endpoint'; route: Route }
  | { kind: 'live'; route: Route; instances: number };

/** How long an endpoint that refused a connection is passed over (gorouter does the same). */
export const FAILED_ENDPOINT_COOLDOWN_MS = 10_000;

/**
 * A route path in normal form ('' and '/' both mean the whole host; '/api/' is '/api'), the form
 * request paths are matched in; undefined for an ambiguous one, which no request can match. The
 * controller stores paths in this form already; this covers entries written before it did.
 */
function normalizeRoutePath(path: string): string | undefined {
  return canonicalRoutePath(path.trim());
}

/** Stable order within an endpoint set, so round-robin does not depend on Redis hash order. */
function byIndex(a: Endpoint, b: Endpoint): number {
  return a.index - b.index || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0);
}

/**
 * The router's in-memory route table, as last read from Redis, in two levels like Cloud
 * Foundry's: routes (host + path -> destinations, i.e. app and process type, with weights) and
 * the endpoints of each (app, process type). Hosts are normalised (lowercase, no port, no
 * trailing dot) on every way in. Endpoints past their `expiresAt` stay stored until the next
 * reload but are never handed out, except while Redis is out of reach (beginSilence): then
 * silence from the cells means nothing. Synchronous and single-threaded: every method is safe to
 * call at any time, in any order.
 */
export class RouteTable {
  /** host -> its routes, longest path first. */
  private readonly hosts = new Map<string, readonly Route[]>();
  /** endpointSetKey(appId, processType) -> endpoints, ordered by index. */
  private readonly endpointSets = new Map<string, readonly Endpoint[]>();
  /** instanceId -> epoch ms until which an endpoint that failed is passed over. */
  private readonly failedUntil = new Map<string, number>();
  /** Epoch ms since which no refresh can arrive (Redis out of reach); undefined while they can. */
  private silentSince: number | undefined;
  /** The last silence: endpoints live at its start count until `graceUntil`, while cells refresh them. */
  private lastSilence = { since: 0, graceUntil: 0 };

  constructor(
    private readonly clock: Clock = Date.now,
    private readonly failureCooldownMs = FAILED_ENDPOINT_COOLDOWN_MS,
    private readonly endpointChoice: EndpointChoice = { kind: 'round-robin' },
  ) {}

  /**
   * Replaces every route of one host; an empty list forgets the host (404 again). A route that
   * keeps its path keeps its balancing position for the destinations it still has.
   */
  replaceHost(host: string, entries: readonly RouteEntry[]): void {
    const key = normalizeHost(host);
    if (entries.length === 0) {
      this.hosts.delete(key);
      return;
    }
    const previous = new Map((this.hosts.get(key) ?? []).map((r) => [r.path, r]));
    const byPath = new Map<string, Route>();
    for (const entry of entries) {
      const path = normalizeRoutePath(entry.path);
      if (path === undefined) continue;
      const balancer = previous.get(path)?.balancer ?? new RouteBalancer();
      balancer.retain(new Set(entry.destinations.map((d) => d.id)));
      byPath.set(path, {
        routeId: entry.routeId,
        host: key,
        path,
        destinations: [...entry.destinations],
        httpsRedirect: entry.httpsRedirect === true,
        hstsMaxAge: entry.hstsMaxAge,
        balancer,
      });
    }
    // Longest path first: the first match is the longest prefix.
    this.hosts.set(key, [...byPath.values()].sort((a, b) => b.path.length - a.path.length));
  }

  /** Forgets a host entirely: requests for it get 404 again. */
  removeHost(host: string): void {
    this.hosts.delete(normalizeHost(host));
  }

  /** Replaces the endpoints of one app's process type; an empty list forgets the set. */
  replaceEndpoints(appId: string, processType: string, endpoints: readonly Endpoint[]): void {
    const key = endpointSetKey(appId, processType);
    const kept = new Set(endpoints.map((e) => e.instanceId));
    for (const e of this.endpointSets.get(key) ?? []) if (!kept.has(e.instanceId)) this.failedUntil.delete(e.instanceId);
    if (endpoints.length === 0) this.endpointSets.delete(key);
    else this.endpointSets.set(key, [...endpoints].sort(byIndex));
  }

  /** Forgets one endpoint set by its `endpointSetKey`. */
  removeEndpointSet(setKey: string): void {
    for (const e of this.endpointSets.get(setKey) ?? []) this.failedUntil.delete(e.instanceId);
    this.endpointSets.delete(setKey);
  }

  /**
   * Records that an endpoint could not be reached: `pick` passes it over for the cooldown,
   * unless every other endpoint of the route is failing too.
   */
  markFailed(instanceId: string): void {
    this.failedUntil.set(instanceId, this.clock() + this.failureCooldownMs);
  }

  /** True when the set `setKey` has an endpoint that has not expired. */
  hasLiveEndpoints(setKey: string): boolean {
    const now = this.clock();
    return (this.endpointSets.get(setKey) ?? []).some((e) => this.isLive(e, now));
  }

  /**
   * The route table in Redis is out of reach: no cell can refresh an endpoint now, so endpoints
   * stop expiring by time (a dead one is still passed over once it refused a connection). Safe
   * to call again while silent.
   */
  beginSilence(): void {
    this.silentSince ??= this.clock();
  }

  /**
   * Redis answers again and the table was read: endpoints that were live when the silence began
   * keep counting for `graceMs`, time for their cells to refresh them. No-op when not silent.
   */
  endSilence(graceMs: number): void {
    if (this.silentSince === undefined) return;
    this.lastSilence = { since: this.silentSince, graceUntil: this.clock() + graceMs };
    this.silentSince = undefined;
  }

  /** True while Redis is out of reach (beginSilence without endSilence). */
  get silent(): boolean {
    return this.silentSince !== undefined;
  }

  hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  endpointSetKeys(): string[] {
    return [...this.endpointSets.keys()];
  }

  /** Number of hosts with routes. */
  get size(): number {
    return this.hosts.size;
  }

  /**
   * The route for a request: exact host, then the longest route path matching `requestPath` on
   * whole segments ('/api' matches '/api', '/api/x' and '/api?q', not '/apix'; '' matches all).
   * `requestPath` is in normal form (normalizeRequestPath): the router never matches a raw path.
   */
  lookup(host: string, requestPath: string): RouteLookup {
    const routes = this.hosts.get(normalizeHost(host));
    if (!routes) return { kind: 'unknown' };
    const route = routes.find((r) => pathMatches(r.path, requestPath));
    if (!route) return { kind: 'no-matching-path' };
    if (route.destinations.length === 0) return { kind: 'no-destination', route };
    const now = this.clock();
    const live = new Set<string>();
    for (const d of route.destinations) for (const e of this.endpointsOf(d)) if (this.isLive(e, now)) live.add(e.instanceId);
    return live.size > 0 ? { kind: 'live', route, instances: live.size } : { kind: 'no-live-endpoint', route };
  }

  /**
   * The next endpoint of `route`: a destination in proportion to its weight (missing weight: 1)
   * among those with a usable endpoint, then round-robin within it. Skips the instance ids in
   * `exclude` (those a retry already tried), expired endpoints, and, while any other endpoint of
   * the route is healthy, recently failed ones; undefined when none is left. Retries (a
   * non-empty `exclude`) move neither the weights nor the cursors.
   */
  pick(route: Route, exclude: ReadonlySet<string> = new Set()): Endpoint | undefined {
    const now = this.clock();
    const live: DestinationCandidates[] = [];
    const healthy: DestinationCandidates[] = [];
    for (const destination of route.destinations) {
      const endpoints = this.endpointsOf(destination).filter((e) => this.isLive(e, now) && !exclude.has(e.instanceId));
      if (endpoints.length === 0) continue;
      const weight = destination.weight ?? 1;
      live.push({ id: destination.id, weight, endpoints });
      const ok = endpoints.filter((e) => !this.isFailing(e.instanceId, now));
      if (ok.length > 0) healthy.push({ id: destination.id, weight, endpoints: ok });
    }
    return route.balancer.pick(healthy.length > 0 ? healthy : live, exclude.size === 0, this.endpointChoice);
  }

  /**
   * The endpoint `instanceId` if it is still a live endpoint of one of `route`'s destinations,
   * not in `exclude` and not recently failed (a sticky session's instance); else undefined.
   * Moves no balancing state.
   */
  liveEndpoint(route: Route, instanceId: string, exclude: ReadonlySet<string> = new Set()): Endpoint | undefined {
    if (exclude.has(instanceId)) return undefined;
    const now = this.clock();
    for (const destination of route.destinations) {
      const endpoint = this.endpointsOf(destination).find((e) => e.instanceId === instanceId);
      if (endpoint && this.isLive(endpoint, now) && !this.isFailing(instanceId, now)) return endpoint;
    }
    return undefined;
  }

  /** Sizes of the table, for metrics: hosts with routes, routes, and stored endpoints. */
  stats(): { hosts: number; routes: number; endpoints: number } {
    let routes = 0;
    for (const r of this.hosts.values()) routes += r.length;
    let endpoints = 0;
    for (const e of this.endpointSets.values()) endpoints += e.length;
    return { hosts: this.hosts.size, routes, endpoints };
  }

  private endpointsOf(destination: RouteDestinationEntry): readonly Endpoint[] {
    return this.endpointSets.get(endpointSetKey(destination.appId, destination.processType)) ?? [];
  }

  /** Unexpired, or live when the current (or last, within its grace) silence of Redis began. */
  private isLive(endpoint: Endpoint, now: number): boolean {
    if (endpoint.expiresAt > now) return true;
    const since = this.silentSince ?? (now < this.lastSilence.graceUntil ? this.lastSilence.since : undefined);
    return since !== undefined && endpoint.expiresAt > since;
  }

  private isFailing(instanceId: string, now: number): boolean {
    const until = this.failedUntil.get(instanceId);
    if (until === undefined) return false;
    if (until > now) return true;
    this.failedUntil.delete(instanceId);
    return false;
  }
}
