import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { PageRequest } from '../platform/common/pagination';
import { isUuid } from '../platform/common/query-params';
import { EventsService } from '../audit/events.service';
import { RoutesRepository } from './routes.repository';
import { DomainsRepository, type DomainWithOrg } from './domains.repository';

export interface DomainView {
  id: string;
  name: string;
  /** Shared domains may be used by every space; private ones by the spaces of their org. */
  shared: boolean;
  /** The platform's default apps domain (config PAAS_APPS_DOMAIN); it cannot be deleted. */
  default: boolean;
  org_id: string | null;
  created_at: string;
}

/**
 * Domains: the shared default apps domain (ensured at boot), other shared domains and private
 * domains owned by an org. Everybody sees the shared ones; private ones are seen by the users of
 * their org. Only platform admins create and delete domains.
 */
@Injectable()
export class DomainsService implements OnApplicationBootstrap {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly domains: DomainsRepository,
    private readonly routes: RoutesRepository,
    private readonly access: AccessService,
    private readonly events: EventsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.routes.ensureSharedDomain(this.config.appsDomain);
  }

  view(domain: DomainWithOrg): DomainView {
    return {
      id: domain.id,
      name: domain.name,
      shared: domain.orgId === null,
      default: domain.name === this.config.appsDomain,
      org_id: domain.orgId,
      created_at: domain.createdAt.toISOString(),
    };
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

  async create(actor: Actor, input: { name: string; org_id?: string }): Promise<DomainView> {
    this.access.requirePlatformAdmin(actor, 'creating a domain');
    if (input.org_id && !(await this.domains.findOrg(input.org_id))) throw notFound('org', input.org_id, 'list the orgs with GET /v1/orgs');
    const nested = await this.domains.findNested(input.name);
    if (nested && nested.name !== input.name) {
      throw new DomainException(
        ErrorCode.Unprocessable,
        `domain ${input.name} overlaps domain ${nested.name}: their routes' hosts could collide; choose a domain that is neither inside nor above an existing one`,
        { conflicting_domain: nested.name },
      );
    }
    const domain = await this.domains.create(input.name, input.org_id ?? null);
    if (!domain) throw new DomainException(ErrorCode.NameTaken, `the domain ${input.name} already exists: use it, or choose another name`);
    await this.events.record(actor, 'domain-created', { type: 'domain', id: domain.id, name: domain.name }, { org_id: domain.orgId });
    return this.view(domain);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const domain = await this.find(actor, id);
    this.access.requirePlatformAdmin(actor, 'deleting a domain');
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
    await this.events.record(actor, 'domain-deleted', { type: 'domain', id: domain.id, name: domain.name }, { org_id: domain.orgId });
  }
}
