import { Injectable } from '@nestjs/common';
import { egressRulesSchema, type EgressRules } from '@paas/contracts';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { PageRequest } from '../platform/common/pagination';
import { isUuid } from '../platform/common/query-params';
import { EventsService } from '../audit/events.service';
import type { SecurityGroup } from '../generated/prisma/client';
import { SecurityGroupsRepository, type Lifecycle, type SecurityGroupWithBindings } from './security-groups.repository';
import type { CreateSecurityGroupRequest, SecurityGroupRule, SecurityGroupView, UpdateSecurityGroupRequest } from './security-groups.schemas';

/**
 * Application security groups: platform admins create them, bind them to spaces for running
 * and/or staging, and mark some as platform defaults. Everybody may read the groups that apply to
 * a space they see (the defaults and those bound to it); admins see every group. The rules that
 * apply to a space travel with each job the controller builds for it (`rulesFor`); a change
 * reaches a running container when it is next started (restart, deploy, crash), as on Cloud Foundry.
 */
@Injectable()
export class SecurityGroupsService {
  constructor(
    private readonly groups: SecurityGroupsRepository,
    private readonly access: AccessService,
    private readonly events: EventsService,
  ) {}

  /** `visibleSpaceIds` undefined: every binding shows. */
  view(group: SecurityGroupWithBindings, visibleSpaceIds?: string[]): SecurityGroupView {
    const spaces = (lifecycle: Lifecycle) =>
      group.bindings.filter((b) => b.lifecycle === lifecycle && (!visibleSpaceIds || visibleSpaceIds.includes(b.spaceId))).map((b) => b.spaceId).sort();
    return {
      id: group.id,
      name: group.name,
      rules: group.rules as SecurityGroupRule[],
      globally_enabled: { running: group.runningDefault, staging: group.stagingDefault },
      running_space_ids: spaces('running'),
      staging_space_ids: spaces('staging'),
      created_at: group.createdAt.toISOString(),
      updated_at: group.updatedAt.toISOString(),
    };
  }

  private visibleTo(group: SecurityGroupWithBindings, visibleSpaceIds: string[] | undefined): boolean {
    return !visibleSpaceIds || group.runningDefault || group.stagingDefault || group.bindings.some((b) => visibleSpaceIds.includes(b.spaceId));
  }

  async list(actor: Actor, filter: { names?: string[] }, page: PageRequest): Promise<{ groups: SecurityGroupView[]; total: number }> {
    const visible = await this.access.visibleSpaceIds(actor);
    if (!visible) {
      const { groups, total } = await this.groups.list(filter, page.skip, page.take);
      return { groups: groups.map((g) => this.view(g)), total };
    }
    // Few groups exist (tens): filter the visible ones in memory, then page.
    const { groups } = await this.groups.list(filter, 0, 10_000);
    const mine = groups.filter((g) => this.visibleTo(g, visible));
    return { groups: mine.slice(page.skip, page.skip + page.take).map((g) => this.view(g, visible)), total: mine.length };
  }

  /** By id or name; 404 when it does not exist or the actor may not see it. */
  async find(actor: Actor, idOrName: string): Promise<SecurityGroupWithBindings> {
    const group = isUuid(idOrName) ? await this.groups.find(idOrName) : await this.groups.findByName(idOrName);
    const visible = group ? await this.access.visibleSpaceIds(actor) : undefined;
    if (!group || !this.visibleTo(group, visible)) throw notFound('security group', idOrName, 'list them with GET /v1/security-groups');
    return group;
  }

  async get(actor: Actor, idOrName: string): Promise<SecurityGroupView> {
    return this.view(await this.find(actor, idOrName), await this.access.visibleSpaceIds(actor));
  }

  async create(actor: Actor, input: CreateSecurityGroupRequest): Promise<SecurityGroupView> {
    this.access.requirePlatformAdmin(actor, 'creating a security group');
    const group = await this.groups.create({
      name: input.name,
      rules: input.rules,
      runningDefault: input.globally_enabled?.running ?? false,
      stagingDefault: input.globally_enabled?.staging ?? false,
    });
    if (!group) throw new DomainException(ErrorCode.NameTaken, `the security group ${input.name} already exists: update it, or choose another name`);
    await this.events.record(actor, 'security-group-created', { type: 'security-group', id: group.id, name: group.name }, {
      rules: input.rules.length,
      globally_enabled: { running: group.runningDefault, staging: group.stagingDefault },
    });
    return this.view(group);
  }

  async update(actor: Actor, idOrName: string, input: UpdateSecurityGroupRequest): Promise<SecurityGroupView> {
    this.access.requirePlatformAdmin(actor, 'changing a security group');
    const existing = await this.find(actor, idOrName);
    const group = await this.groups.update(existing.id, {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.rules !== undefined ? { rules: input.rules } : {}),
      ...(input.globally_enabled?.running !== undefined ? { runningDefault: input.globally_enabled.running } : {}),
      ...(input.globally_enabled?.staging !== undefined ? { stagingDefault: input.globally_enabled.staging } : {}),
    });
    if (!group) throw new DomainException(ErrorCode.NameTaken, `the security group ${input.name} already exists: choose another name`);
    await this.events.record(actor, 'security-group-updated', { type: 'security-group', id: group.id, name: group.name }, {
      changed: Object.keys(input),
      globally_enabled: { running: group.runningDefault, staging: group.stagingDefault },
    });
    return this.view(group);
  }

  async delete(actor: Actor, idOrName: string): Promise<void> {
    this.access.requirePlatformAdmin(actor, 'deleting a security group');
    const group = await this.find(actor, idOrName);
    await this.groups.delete(group.id);
    await this.events.record(actor, 'security-group-deleted', { type: 'security-group', id: group.id, name: group.name }, {
      running_space_ids: group.bindings.filter((b) => b.lifecycle === 'running').map((b) => b.spaceId),
      staging_space_ids: group.bindings.filter((b) => b.lifecycle === 'staging').map((b) => b.spaceId),
    });
  }

  async bind(actor: Actor, idOrName: string, spaceIds: string[], lifecycle: Lifecycle): Promise<SecurityGroupView> {
    this.access.requirePlatformAdmin(actor, 'binding a security group');
    const group = await this.find(actor, idOrName);
    const unique = [...new Set(spaceIds)];
    const existing = new Set(await this.groups.existingSpaceIds(unique));
    const missing = unique.filter((id) => !existing.has(id));
    if (missing.length) throw notFound('space', missing.join(', '), 'list the spaces with GET /v1/spaces');
    await this.groups.bind(group.id, unique, lifecycle);
    for (const spaceId of unique) {
      await this.events.record(actor, 'security-group-bound', { type: 'security-group', id: group.id, name: group.name, spaceId }, { lifecycle });
    }
    return this.view((await this.groups.find(group.id))!);
  }

  async unbind(actor: Actor, idOrName: string, spaceId: string, lifecycle: Lifecycle): Promise<void> {
    this.access.requirePlatformAdmin(actor, 'unbinding a security group');
    const group = await this.find(actor, idOrName);
    if (!isUuid(spaceId) || !(await this.groups.unbind(group.id, spaceId, lifecycle))) {
      throw notFound(`${lifecycle} binding of security group ${group.name} to space`, spaceId, `GET /v1/security-groups/${group.id} lists its ${lifecycle}_space_ids`);
    }
    await this.events.record(actor, 'security-group-unbound', { type: 'security-group', id: group.id, name: group.name, spaceId }, { lifecycle });
  }

  /**
   * The egress rules of a space's containers of one lifecycle: every rule of the platform
   * defaults and of the groups bound to the space, in group-name order. For the jobs the
   * controller sends to cells; the stored rules were validated on the way in and again here.
   */
  async rulesFor(spaceId: string, lifecycle: Lifecycle): Promise<EgressRules> {
    const groups: SecurityGroup[] = await this.groups.applying(spaceId, lifecycle);
    return egressRulesSchema.parse(groups.flatMap((g) => g.rules as unknown[]));
  }
}
