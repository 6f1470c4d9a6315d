import { Injectable } from '@nestjs/common';
import type { VerifyDomainRequest } from '@paas/contracts';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { EventsService } from '../audit/events.service';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import { DomainProbeRepository } from './domain-probe.repository';
import { decideVerification } from './domain-claim.rules';
import { DomainTokensRepository } from './domain-tokens.repository';
import { DomainsRepository } from './domains.repository';
import { DomainsService } from './domains.service';
import type { DomainView } from './domains.views';

/**
 * POST /v1/domains/:id/verify: an org proves control of its pending domain, by the token the
 * routers serve at http://<domain>/.well-known/paas-domain-verification/<token> (once the domain
 * points at them) or by a TXT record _paas-verification.<domain> (only with PAAS_DNS_RESOLVER).
 * Each attempt publishes the token again (renewing its expiry, restoring it after a Redis loss).
 * Success: verified, token cleared and withdrawn, domain-verified. Failure: 422 with the reason,
 * kept as the domain's last_error, domain-verification-failed. Safe to repeat: verifying a
 * verified domain answers it as it is.
 */
@Injectable()
export class DomainVerificationService {
  constructor(
    private readonly domainsService: DomainsService,
    private readonly domains: DomainsRepository,
    private readonly tokens: DomainTokensRepository,
    private readonly probe: DomainProbeRepository,
    private readonly access: AccessService,
    private readonly events: EventsService,
  ) {}

  async verify(actor: Actor, id: string, input: VerifyDomainRequest): Promise<DomainView> {
    const method = input.method ?? 'http';
    const domain = await this.domainsService.find(actor, id);
    if (domain.orgId) await this.access.requireOrgManager(actor, domain.orgId, 'verifying a domain of an org');
    const token = domain.verificationToken;
    if (domain.verifiedAt || !token) return this.domainsService.view(domain);
    if (method === 'dns' && !this.probe.dnsResolver) {
      throw new DomainException(
        ErrorCode.Unprocessable,
        `DNS verification is off on this platform: the operator enables it by setting PAAS_DNS_RESOLVER (the DNS server the controller asks for TXT records); verify over HTTP instead ({"method": "http"}), which checks http://${domain.name}/.well-known/paas-domain-verification/${token}`,
        { method, setting: 'PAAS_DNS_RESOLVER' },
      );
    }
    await this.tokens.publish(domain.name, token);
    const outcome = method === 'http' ? await this.probe.httpToken(domain.name, token) : await this.probe.txtToken(domain.name, token);
    const target = { type: 'domain', id: domain.id, name: domain.name };
    const failed = async (reason: string, error: DomainException): Promise<never> => {
      await this.domains.recordVerificationError(domain.id, token, reason);
      await this.events.record(actor, 'domain-verification-failed', target, { org_id: domain.orgId, method, reason });
      throw error;
    };
    if (!outcome.ok) {
      return failed(outcome.reason, new DomainException(ErrorCode.DomainVerificationFailed, `${domain.name} is not verified: ${outcome.reason}`, { method, domain_id: domain.id }));
    }
    const visibleOrgIds = await this.access.visibleOrgIds(actor);
    const result = await this.domains.markVerified(domain.id, token, new Date(), (pending, existing) => decideVerification(pending, existing, visibleOrgIds));
    if (result.kind === 'refused') return failed(result.error.message, result.error);
    const now = await this.domains.find(domain.id);
    if (!now) throw notFound('domain', id, 'it was deleted meanwhile (another org proved control of it first); list the domains with GET /v1/domains');
    if (result.kind === 'verified') {
      await this.tokens.withdraw(domain.name, token);
      await this.events.record(actor, 'domain-verified', target, { org_id: domain.orgId, method });
      await this.domainsService.forgetLostClaims(result.removed, 'another org proved control of the name first');
    }
    return this.domainsService.view(now);
  }
}
