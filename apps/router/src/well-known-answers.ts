import { ACME_CHALLENGE_PREFIX, DOMAIN_VERIFICATION_PREFIX, wellKnownField, type WellKnownAnswer } from '@paas/contracts';
import type { Clock } from './route-table';

/** Whether the router answers `path` itself from the well-known hash: ACME HTTP-01 and domain-verification paths only. */
export function isAnsweredWellKnownPath(path: string): boolean {
  return (path.startsWith(ACME_CHALLENGE_PREFIX) && path.length > ACME_CHALLENGE_PREFIX.length) || (path.startsWith(DOMAIN_VERIFICATION_PREFIX) && path.length > DOMAIN_VERIFICATION_PREFIX.length);
}

/**
 * The fixed answers of the well-known hash (readWellKnownAnswers), as last read: ACME HTTP-01 key
 * authorizations and domain-verification tokens, answered before any route lookup (a domain is
 * verified, and its certificate ordered, before it has routes). Every other /.well-known/ path
 * goes to the app as any path does. Single-threaded: safe to call in any order.
 */
export class WellKnownAnswers {
  private answers = new Map<string, WellKnownAnswer>();

  constructor(private readonly clock: Clock = Date.now) {}

  /** Replaces every answer (by wellKnownField). */
  replaceAll(answers: ReadonlyMap<string, WellKnownAnswer>): void {
    this.answers = new Map(answers);
  }

  /** The body to answer for `host` (normalised) and `path` (exact), or undefined: not one of ours, or expired. */
  answer(host: string, path: string): string | undefined {
    if (this.answers.size === 0 || !isAnsweredWellKnownPath(path)) return undefined;
    const found = this.answers.get(wellKnownField(host, path));
    return found && found.expiresAt > this.clock() ? found.body : undefined;
  }

  get size(): number {
    return this.answers.size;
  }
}
