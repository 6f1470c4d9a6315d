import { DomainException, ErrorCode } from '../platform/common/domain.exception';

/**
 * Who may have a domain name (docs/https.md, "Own domains"): a name belongs to one holder, and so
 * do the names inside and above it (their routes' hosts would collide). Pure: the caller reads the
 * domains that equal or overlap the name and the clock; this says what to do.
 */

/** An unverified claim of another org stops holding its name this long after it was made. */
export const PENDING_CLAIM_HOLD_MS = 72 * 3_600_000;

export interface ExistingDomain {
  id: string;
  name: string;
  orgId: string | null;
  verifiedAt: Date | null;
  createdAt: Date;
}

export interface ClaimRequest {
  name: string;
  /** null: a shared domain (platform admins only). */
  orgId: string | null;
  /** Orgs whose domains the claimer may see by name; undefined: all (platform admin). */
  visibleOrgIds: string[] | undefined;
  now: Date;
}

/** `claim`: create it, after deleting `replace` (other orgs' unverified claims past PENDING_CLAIM_HOLD_MS). */
export type ClaimDecision<T extends ExistingDomain = ExistingDomain> = { kind: 'claim'; replace: T[] } | { kind: 'refused'; error: DomainException };

const ONE_HOLDER =
  'a domain belongs to one org, and so do the names inside and above it, since their hosts would collide';

/** The names `name` is inside of: a.b.c → b.c, c. */
export function parentNames(name: string): string[] {
  const out: string[] = [];
  for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) out.push(name.slice(i + 1));
  return out;
}

export function isStalePendingClaim(domain: Pick<ExistingDomain, 'verifiedAt' | 'createdAt'>, now: Date): boolean {
  return domain.verifiedAt === null && now.getTime() - domain.createdAt.getTime() >= PENDING_CLAIM_HOLD_MS;
}

/**
 * The decision for `req` given every domain whose name equals, contains or is contained in
 * req.name. A refusal names another org's domain only to who may see that org: otherwise it says
 * the name is held (or pending) elsewhere, and for a nested one only "inside or above", never which.
 */
export function decideClaim<T extends ExistingDomain>(req: ClaimRequest, existing: T[]): ClaimDecision<T> {
  const replace: T[] = [];
  // The same name first: its answer (409) is the most useful one.
  const ordered = [...existing].sort((a, b) => Number(b.name === req.name) - Number(a.name === req.name));
  for (const d of ordered) {
    const same = d.name === req.name;
    const relation = same ? 'is' : req.name.endsWith(`.${d.name}`) ? 'inside' : 'above';
    if (d.orgId === null) return refused(sharedConflict(req.name, d, relation));
    if (d.orgId === req.orgId) return refused(ownConflict(req.name, d, relation));
    if (isStalePendingClaim(d, req.now)) {
      replace.push(d);
      continue;
    }
    const visible = req.visibleOrgIds === undefined || req.visibleOrgIds.includes(d.orgId);
    return refused(otherOrgConflict(req.name, d, relation, visible));
  }
  return { kind: 'claim', replace };
}

function refused(error: DomainException): { kind: 'refused'; error: DomainException } {
  return { kind: 'refused', error };
}

function sharedConflict(name: string, d: ExistingDomain, relation: 'is' | 'inside' | 'above'): DomainException {
  if (relation === 'is') return new DomainException(ErrorCode.NameTaken, `the domain ${name} already exists, shared by every org: create routes on it`);
  if (relation === 'inside') {
    return new DomainException(
      ErrorCode.Unprocessable,
      `${name} is inside the shared domain ${d.name}: its names are hosts of routes on ${d.name} (host "${name.slice(0, -d.name.length - 1)}"), so no org can claim them; create that route instead, or claim a domain of your own`,
      { conflicting_domain: d.name },
    );
  }
  return new DomainException(
    ErrorCode.Unprocessable,
    `domain ${name} overlaps the shared domain ${d.name}, which is inside it: ${ONE_HOLDER}; choose a domain that is neither inside nor above an existing one`,
    { conflicting_domain: d.name },
  );
}

function ownConflict(name: string, d: ExistingDomain, relation: 'is' | 'inside' | 'above'): DomainException {
  if (relation === 'is') return new DomainException(ErrorCode.NameTaken, `the domain ${name} already exists (id ${d.id}): use it`, { domain_id: d.id });
  return new DomainException(
    ErrorCode.Unprocessable,
    `domain ${name} overlaps domain ${d.name} of the same org: their routes' hosts could collide; choose a domain that is neither inside nor above an existing one, or use host names on ${d.name}`,
    { conflicting_domain: d.name, domain_id: d.id },
  );
}

function otherOrgConflict(name: string, d: ExistingDomain, relation: 'is' | 'inside' | 'above', visible: boolean): DomainException {
  const pending = d.verifiedAt === null;
  const until = pending ? ` (until it is verified, or for ${PENDING_CLAIM_HOLD_MS / 3_600_000} h after it was made: ${new Date(d.createdAt.getTime() + PENDING_CLAIM_HOLD_MS).toISOString()})` : '';
  const details = visible ? { conflicting_domain: d.name, domain_id: d.id, org_id: d.orgId, pending } : { pending };
  if (relation === 'is') {
    const what = pending ? `is pending verification by another org${until}` : 'is held by another org';
    return new DomainException(ErrorCode.DomainHeld, `the domain ${name} ${what}: ${ONE_HOLDER}; choose another domain${pending ? ', or try again after that' : ''}`, details);
  }
  const other = visible ? `domain ${d.name} of org ${d.orgId}, ${relation === 'inside' ? 'above' : 'inside'} it,` : 'a domain of another org, inside or above it,';
  const state = pending ? `pending verification${visible ? until : ''}` : 'held';
  return new DomainException(
    ErrorCode.Unprocessable,
    `domain ${name} overlaps ${other} ${state}: ${ONE_HOLDER}; choose a domain that is neither inside nor above an existing one`,
    details,
  );
}
