import { DomainException, ErrorCode } from '../platform/common/domain.exception';

/** A domain as certificates see it (routing owns domains; certificates only read them). */
export interface CertificateDomain {
  id: string;
  name: string;
  /** Null: a shared domain. */
  orgId: string | null;
  verifiedAt: Date | null;
}

const HOST = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Domain names that could hold `name` (`a.b.c` → a.b.c, b.c, c), wildcard label dropped. */
export function candidateDomainNames(name: string): string[] {
  const labels = name.toLowerCase().replace(/^\*\./, '').split('.');
  return labels.map((_, i) => labels.slice(i).join('.'));
}

function refuse(message: string, name: string): DomainException {
  return new DomainException(ErrorCode.CertificateNameRefused, message, { name });
}

/**
 * The domain holding each name (the longest domain `name` is, or is under), checked: a valid host,
 * on a known and verified domain, no wildcard when `wildcards` is false (ACME HTTP-01 cannot
 * prove one), every name held by the same owner. Returns the owner (org id, or null for shared
 * domains) and each name's domain; throws a 422 `certificate-name-refused` naming the name and the fix.
 * Who may act for that owner is the caller's check.
 */
export function domainsOfNames(names: string[], domains: CertificateDomain[], wildcards: boolean): { orgId: string | null; byName: Map<string, CertificateDomain> } {
  const byName = new Map<string, CertificateDomain>();
  for (const raw of names) {
    const name = raw.toLowerCase();
    if (!HOST.test(name) || name.length > 253) throw refuse(`"${raw}" is not a host name (letters, digits and hyphens in dot-separated labels, optionally *. first)`, raw);
    if (name.startsWith('*.') && !wildcards) {
      throw refuse(
        `${name} is a wildcard: ACME orders here prove control by HTTP-01, which cannot prove a wildcard; order the exact hosts, or upload a wildcard certificate (source upload)`,
        name,
      );
    }
    const candidates = candidateDomainNames(name);
    const domain = domains
      .filter((d) => candidates.includes(d.name.toLowerCase()))
      // The longest name; of one name, the verified domain before pending claims.
      .sort((a, b) => b.name.length - a.name.length || Number(b.verifiedAt !== null) - Number(a.verifiedAt !== null))[0];
    if (!domain) throw refuse(`${name} is on no domain of the platform: add its domain for your org (POST /v1/domains) and verify it first`, name);
    if (!domain.verifiedAt) {
      throw refuse(`${name} is on domain ${domain.name}, which is not verified yet: prove control of it first (POST /v1/domains/${domain.id}/verify)`, name);
    }
    byName.set(name, domain);
  }
  const owners = new Set([...byName.values()].map((d) => d.orgId));
  if (owners.size > 1) {
    const list = [...byName.entries()].map(([n, d]) => `${n} (${d.orgId ? `org ${d.orgId}` : 'shared'})`).join(', ');
    throw refuse(`the names are on domains of different owners: ${list}; a certificate covers the domains of one org: make one certificate per org`, names[0] ?? '');
  }
  return { orgId: [...owners][0] ?? null, byName };
}
