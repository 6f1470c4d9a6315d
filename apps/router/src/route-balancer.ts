import type { Endpoint } from '@paas/contracts';

/** One destination of a route as it takes part in one pick: its weight and its usable endpoints. */
export interface DestinationCandidates {
  /** The destination's id (stable across reloads of the route). */
  id: string;
  /** Relative share of traffic, at least 1. */
  weight: number;
  /** Endpoints that may take this request, in a stable order; never empty. */
  endpoints: readonly Endpoint[];
}

interface DestinationState {
  /** Smooth weighted round-robin score. */
  current: number;
  /** Round-robin position among the destination's endpoints. */
  cursor: number;
}

/** How the endpoints of a chosen destination take turns: in order, or the least loaded first. */
export type EndpointChoice = { kind: 'round-robin' } | { kind: 'least-connections'; load: (instanceId: string) => number };

const ROUND_ROBIN: EndpointChoice = { kind: 'round-robin' };

/**
 * The balancing state of one route: nginx's smooth weighted round-robin over its destinations,
 * then plain round-robin over the chosen destination's endpoints, or (least-connections) the one of
 * them with the fewest requests in flight, ties broken by the round-robin turn. Deterministic: over any run of
 * picks with the same candidates, each destination gets exactly its share (3:1 gives A A B A …).
 *
 * A pick with `commit` false (a retry) chooses what a committed pick would, minus what it was
 * told to skip, but moves nothing, so a failing endpoint does not skew the rotation of the others.
 * Synchronous; safe to call in any order.
 */
export class RouteBalancer {
  private readonly state = new Map<string, DestinationState>();

  pick(candidates: readonly DestinationCandidates[], commit: boolean, choice: EndpointChoice = ROUND_ROBIN): Endpoint | undefined {
    if (candidates.length === 0) return undefined;
    let total = 0;
    let best: DestinationCandidates | undefined;
    let bestScore = -Infinity;
    for (const candidate of candidates) {
      total += candidate.weight;
      const score = this.stateOf(candidate.id).current + candidate.weight;
      // Strictly greater: ties go to the first destination, as in nginx.
      if (score > bestScore) {
        bestScore = score;
        best = candidate;
      }
    }
    if (!best) return undefined;
    const chosen = this.stateOf(best.id);
    const endpoint = choice.kind === 'round-robin' ? best.endpoints[chosen.cursor % best.endpoints.length] : leastLoaded(best.endpoints, chosen.cursor, choice.load);
    if (commit) {
      for (const candidate of candidates) this.stateOf(candidate.id).current += candidate.weight;
      chosen.current -= total;
      chosen.cursor = (chosen.cursor + 1) % Number.MAX_SAFE_INTEGER;
    }
    return endpoint;
  }

  /** Forgets the state of destinations no longer in the route (the others keep their place). */
  retain(destinationIds: ReadonlySet<string>): void {
    for (const id of this.state.keys()) if (!destinationIds.has(id)) this.state.delete(id);
  }

  private stateOf(id: string): DestinationState {
    let s = this.state.get(id);
    if (!s) {
      s = { current: 0, cursor: 0 };
      this.state.set(id, s);
    }
    return s;
  }
}

/** The endpoint with the fewest in flight; among equals, the first from the round-robin turn on. */
function leastLoaded(endpoints: readonly Endpoint[], cursor: number, load: (instanceId: string) => number): Endpoint | undefined {
  let best: Endpoint | undefined;
  let bestLoad = Infinity;
  for (let i = 0; i < endpoints.length; i++) {
    const endpoint = endpoints[(cursor + i) % endpoints.length]!;
    const l = load(endpoint.instanceId);
    if (l < bestLoad) {
      bestLoad = l;
      best = endpoint;
    }
  }
  return best;
}
