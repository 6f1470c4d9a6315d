import { DOMAIN_VERIFICATION_TXT_LABEL, type DomainVerificationView, type DomainView } from '@paas/contracts';
import type { Domain } from '../generated/prisma/client';
import { verificationPath } from './domain-tokens.repository';

export type { DomainView };

/** How an org proves control of a pending domain; a verified one only says since when. */
export function verificationView(domain: Domain, dnsVerification: boolean): DomainVerificationView {
  const token = domain.verifiedAt ? null : domain.verificationToken;
  return {
    state: domain.verifiedAt ? 'verified' : 'pending',
    token,
    http_url: token ? `http://${domain.name}${verificationPath(token)}` : null,
    dns_record: token && dnsVerification ? { name: `${DOMAIN_VERIFICATION_TXT_LABEL}.${domain.name}`, type: 'TXT', value: token } : null,
    verified_at: domain.verifiedAt?.toISOString() ?? null,
    last_error: domain.verifiedAt ? null : domain.verificationError,
  };
}

/** `appsDomain`: the platform's default apps domain; `dnsVerification`: whether PAAS_DNS_RESOLVER is set. */
export function domainView(domain: Domain, settings: { appsDomain: string; dnsVerification: boolean }): DomainView {
  return {
    id: domain.id,
    name: domain.name,
    shared: domain.orgId === null,
    default: domain.name === settings.appsDomain,
    org_id: domain.orgId,
    verification: verificationView(domain, settings.dnsVerification),
    created_at: domain.createdAt.toISOString(),
  };
}
