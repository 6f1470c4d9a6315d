import { DomainException, ErrorCode } from '../platform/common/domain.exception';

/**
 * Who may have a domain name (docs/https.md, "Own domains"): a name belongs to one holder, and so
 * do the names inside and above it (their routes' hosts would collide). Pure: the caller reads the
 * domains that equal or overlap the name and the clock; this says what to do.
 */

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

export type ClaimDecision = { kind: 'claim' } | { kind: 'refused'; error: DomainException };

/** `verify`: mark it verified and delete `remove`, the other orgs' pending claims of the name or of names inside or above it. */
export type VerifyDecision<T extends ExistingDomain = ExistingDomain> = { kind: 'verify'; remove: T[] } | { kind: 'refused'; error: DomainException };

const ONE_HOLDER =
  'a domain belongs to one org, and so do the names inside and above it, since their hosts would collide';

/** The names `name` is inside of: a.b.c → b.c, c. */
export function parentNames(name: string): string[] {
  const out: string[] = [];
  for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) out.push(name.slice(i + 1));
  return out;
}

/**
 * The decision for `req` given every domain whose name equals, contains or is contained in
 * req.name. Only verified domains and the claimer's own claims stand in the way: other orgs'
 * pending claims never do (else an org could squat a name its owner needs, or every name under
 * a suffix such as co.uk); who proves control first holds it (decideVerification). A refusal
 * names another org's domain only to who may see that org: otherwise it says the name is held
 * elsewhere, and for a nested one only "inside or above", never which.
 */
export function decideClaim(req: ClaimRequest, existing: ExistingDomain[]): ClaimDecision {
  // The same name first: its answer (409) is the most useful one.
  const ordered = [...existing].sort((a, b) => Number(b.name === req.name) - Number(a.name === req.name));
  for (const d of ordered) {
    const relation = relationOf(req.name, d.name);
    if (d.orgId === null) return refused(sharedConflict(req.name, d, relation));
    if (d.orgId === req.orgId) return refused(ownConflict(req.name, d, relation));
    if (d.verifiedAt === null) continue;
    const visible = req.visibleOrgIds === undefined || req.visibleOrgIds.includes(d.orgId);
    return refused(otherOrgConflict(req.name, d, relation, visible));
  }
  return { kind: 'claim' };
}

/**
 * Whether `domain`, a pending claim whose control was just proved, becomes verified, given every
 * domain overlapping its name: refused when a verified one (another org's, or shared) now holds
 * the name or one inside or above it (it was verified first); else the other orgs' pending
 * claims of these names are removed.
 */
export function decideVerification<T extends ExistingDomain>(domain: ExistingDomain, existing: T[], visibleOrgIds: string[] | undefined): VerifyDecision<T> {
  const remove: T[] = [];
  for (const d of existing) {
    if (d.id === domain.id) continue;
    const relation = relationOf(domain.name, d.name);
    if (d.orgId === null) return refused(sharedConflict(domain.name, d, relation));
    if (d.verifiedAt !== null) {
      const visible = visibleOrgIds === undefined || visibleOrgIds.includes(d.orgId);
      return refused(d.orgId === domain.orgId ? ownConflict(domain.name, d, relation) : otherOrgConflict(domain.name, d, relation, visible));
    }
    if (d.orgId !== domain.orgId) remove.push(d);
  }
  return { kind: 'verify', remove };
}

function relationOf(name: string, other: string): 'is' | 'inside' | 'above' {
  return name === other ? 'is' : name.endsWith(`.${other}`) ? 'inside' : 'above';
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

/** Another org's verified domain is, contains or is inside `name`. */
function otherOrgConflict(name: string, d: ExistingDomain, relation: 'is' | 'inside' | 'above', visible: boolean): DomainException {
  const details = visible ? { conflicting_domain: d.name, domain_id: d.id, org_id: d.orgId } : {};
  if (relation === 'is') {
    return new DomainException(ErrorCode.DomainHeld, `the domain ${name} is held by another org, which proved control of it: ${ONE_HOLDER}; choose another domain`, details);
  }
  const other = visible ? `domain ${d.name} of org ${d.orgId}, ${relation === 'inside' ? 'above' : 'inside'} it,` : 'a domain of another org, inside or above it,';
  return new DomainException(
    ErrorCode.Unprocessable,
    `domain ${name} overlaps ${other} held: ${ONE_HOLDER}; choose a domain that is neither inside nor above an existing one`,
    details,
  );
}
