import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { PageRequest } from '../platform/common/pagination';
import { isUuid } from '../platform/common/query-params';
import { EventsService, SYSTEM_ACTOR } from '../audit/events.service';
import type { Domain } from '../generated/prisma/client';
import { RoutesRepository } from './routes.repository';
import { DomainsRepository, type DomainWithOrg } from './domains.repository';
import { decideClaim } from './domain-claim.rules';
import { DomainTokensRepository } from './domain-tokens.repository';
import { domainView, type DomainView } from './domains.views';

/**
 * Domains: the shared default apps domain (ensured at boot), other shared domains and private
 * domains owned by an org. Everybody sees the shared ones; private ones are seen by the users of
 * their org. Platform admins create shared domains and private ones (verified at once); an org's
 * managers (AccessService.requireOrgManager) claim private ones for it, pending until they prove
 * control (DomainVerificationService). Who may hold a name: decideClaim.
 */
@Injectable()
export class DomainsService implements OnApplicationBootstrap {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly domains: DomainsRepository,
    private readonly routes: RoutesRepository,
    private readonly tokens: DomainTokensRepository,
    private readonly access: AccessService,
    private readonly events: EventsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.routes.ensureSharedDomain(this.config.appsDomain);
  }

  view(domain: Domain): DomainView {
    return domainView(domain, { appsDomain: this.config.appsDomain, dnsVerification: this.config.domainVerification.dnsResolver !== undefined });
  }

  async list(actor: Actor, filter: { orgIds?: string[]; names?: string[] }, page: PageRequest): Promise<{ domains: DomainView[]; total: number }> {
    const visibleOrgIds = await this.access.visibleOrgIds(actor);
    const { domains, total } = await this.domains.list({ visibleOrgIds, ...filter }, page.skip, page.take);
    return { domains: domains.map((d) => this.view(d)), total };
  }

  /** The domain if the actor may see it (shared, or private to an org it sees), else 404. */
  async find(actor: Actor, id: string): Promise<DomainWithOrg> {
    const domain = isUuid(id) ? await this.domains.find(id) : null;
    const visibleOrgIds = domain?.orgId ? await this.access.visibleOrgIds(actor) : undefined;
    if (!domain || (domain.orgId && visibleOrgIds && !visibleOrgIds.includes(domain.orgId))) {
      throw notFound('domain', id, 'list the domains you can use with GET /v1/domains');
    }
    return domain;
  }

  async get(actor: Actor, id: string): Promise<DomainView> {
    return this.view(await this.find(actor, id));
  }

  /**
   * A platform admin's domain is verified at once; an org manager's is pending, with a token to
   * serve over HTTP or put in a TXT record (the routers serve it from now on).
   */
  async create(actor: Actor, input: { name: string; org_id?: string }): Promise<DomainView> {
    if (!input.org_id) this.access.requirePlatformAdmin(actor, 'creating a shared domain (one without org_id)');
    else await this.access.requireOrgManager(actor, input.org_id, 'creating a domain for an org');
    if (input.org_id && !(await this.domains.findOrg(input.org_id))) throw notFound('org', input.org_id, 'list the orgs with GET /v1/orgs');
    const orgId = input.org_id ?? null;
    const now = new Date();
    const token = actor.isAdmin ? null : randomBytes(32).toString('base64url');
    const visibleOrgIds = await this.access.visibleOrgIds(actor);
    const result = await this.domains.claim({ name: input.name, orgId, verificationToken: token, verifiedAt: token ? null : now }, (existing) =>
      decideClaim({ name: input.name, orgId, visibleOrgIds, now }, existing),
    );
    if (result.kind === 'refused') throw result.error;
    if (result.kind === 'taken') throw new DomainException(ErrorCode.NameTaken, `the domain ${input.name} was just claimed by someone else: choose another name, or look it up with GET /v1/domains?names=${input.name}`);
    const domain = result.domain;
    await this.forgetLostClaims(result.removed, 'a platform admin added the name, verified');
    if (token) await this.tokens.publish(domain.name, token);
    await this.events.record(actor, 'domain-created', { type: 'domain', id: domain.id, name: domain.name }, { org_id: domain.orgId, verified: domain.verifiedAt !== null });
    return this.view(domain);
  }

  /** Platform admins, and the org managers of a private domain's org; never the default apps domain, nor while routes use it. */
  async delete(actor: Actor, id: string): Promise<void> {
    const domain = await this.find(actor, id);
    if (domain.orgId) await this.access.requireOrgManager(actor, domain.orgId, 'deleting a domain of an org');
    else this.access.requirePlatformAdmin(actor, 'deleting a shared domain');
    if (domain.name === this.config.appsDomain) {
      throw new DomainException(ErrorCode.Unprocessable, `${domain.name} is the platform's default apps domain (PAAS_APPS_DOMAIN): it cannot be deleted`);
    }
    const routes = await this.domains.countRoutes(domain.id);
    if (routes > 0 || !(await this.domains.delete(domain.id))) {
      throw new DomainException(
        ErrorCode.Unprocessable,
        `domain ${domain.name} still has ${routes || 'some'} route(s): delete them first (GET /v1/routes?domain_ids=${domain.id})`,
        { routes },
      );
    }
    if (domain.verificationToken) await this.tokens.withdraw(domain.name, domain.verificationToken);
    await this.events.record(actor, 'domain-deleted', { type: 'domain', id: domain.id, name: domain.name }, { org_id: domain.orgId });
  }

  /**
   * After other orgs' pending claims were deleted because a domain now holds their names: their
   * tokens are withdrawn and each deletion recorded as the system's act (the losing org never
   * learns who won).
   */
  async forgetLostClaims(lost: readonly Domain[], reason: string): Promise<void> {
    for (const claim of lost) {
      if (claim.verificationToken) await this.tokens.withdraw(claim.name, claim.verificationToken);
      await this.events.record(SYSTEM_ACTOR, 'domain-deleted', { type: 'domain', id: claim.id, name: claim.name }, { org_id: claim.orgId, reason });
    }
  }
}
