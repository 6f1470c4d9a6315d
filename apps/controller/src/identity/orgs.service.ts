import { Injectable } from '@nestjs/common';
import type { Org } from '../generated/prisma/client';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { PageRequest } from '../platform/common/pagination';
import { isUuid } from '../platform/common/query-params';
import { EventsService } from '../audit/events.service';
import { TenancyRepository } from './tenancy.repository';
import { orgView, type OrgView } from './tenancy.views';

/** Orgs: everyone sees the orgs of the spaces they hold a role in; only platform admins create, rename or delete them. */
@Injectable()
export class OrgsService {
  constructor(
    private readonly repo: TenancyRepository,
    private readonly access: AccessService,
    private readonly events: EventsService,
  ) {}

  async list(actor: Actor, filter: { names?: string[] }, page: PageRequest): Promise<{ orgs: OrgView[]; total: number }> {
    const ids = await this.access.visibleOrgIds(actor);
    const { orgs, total } = await this.repo.listOrgs({ ids, names: filter.names }, page.skip, page.take);
    return { orgs: orgs.map(orgView), total };
  }

  /** The org if the actor may see it, else 404. */
  async find(actor: Actor, id: string): Promise<Org> {
    const org = isUuid(id) ? await this.repo.findOrg(id) : null;
    const visible = await this.access.visibleOrgIds(actor);
    if (!org || (visible && !visible.includes(org.id))) throw notFound('org', id, 'list the orgs you can see with GET /v1/orgs');
    return org;
  }

  async get(actor: Actor, id: string): Promise<OrgView> {
    return orgView(await this.find(actor, id));
  }

  async create(actor: Actor, name: string): Promise<OrgView> {
    this.access.requirePlatformAdmin(actor, 'creating an org');
    const org = await this.repo.createOrg(name);
    if (!org) throw new DomainException(ErrorCode.NameTaken, `an org named ${name} already exists: choose another name`);
    await this.events.record(actor, 'org-created', { type: 'org', id: org.id, name: org.name });
    return orgView(org);
  }

  async rename(actor: Actor, id: string, name: string): Promise<OrgView> {
    const org = await this.find(actor, id);
    this.access.requirePlatformAdmin(actor, 'renaming an org');
    if (org.name === name) return orgView(org);
    const renamed = await this.repo.renameOrg(org.id, name);
    if (!renamed) throw new DomainException(ErrorCode.NameTaken, `an org named ${name} already exists: choose another name`);
    await this.events.record(actor, 'org-renamed', { type: 'org', id: org.id, name }, { from: org.name, to: name });
    return orgView(renamed);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const org = await this.find(actor, id);
    this.access.requirePlatformAdmin(actor, 'deleting an org');
    const spaces = await this.repo.countSpacesOfOrg(org.id);
    if (spaces > 0 || !(await this.repo.deleteOrg(org.id))) {
      throw new DomainException(
        ErrorCode.Unprocessable,
        `org ${org.name} still has ${spaces || 'some'} space(s): delete them first (GET /v1/spaces?org_ids=${org.id})`,
        { spaces },
      );
    }
    await this.events.record(actor, 'org-deleted', { type: 'org', id: org.id, name: org.name });
  }
}
