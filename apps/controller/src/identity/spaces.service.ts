import { Injectable } from '@nestjs/common';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { PageRequest } from '../platform/common/pagination';
import { isUuid } from '../platform/common/query-params';
import { EventsService } from '../audit/events.service';
import { RouteProjectionService, fqdnOf } from '../routing/route-projection.service';
import { OrgsService } from './orgs.service';
import { TenancyRepository, type SpaceWithOrg } from './tenancy.repository';
import type { SetRoleRequest } from './tenancy.schemas';
import { roleView, spaceView, type RoleView, type SpaceView } from './tenancy.views';

/**
 * Spaces and the roles users hold in them. A caller sees the spaces it holds a role in; platform
 * admins create and delete spaces; space admins (and platform admins) rename them and manage roles.
 */
@Injectable()
export class SpacesService {
  constructor(
    private readonly repo: TenancyRepository,
    private readonly orgs: OrgsService,
    private readonly access: AccessService,
    private readonly events: EventsService,
    private readonly projection: RouteProjectionService,
  ) {}

  async list(actor: Actor, filter: { orgIds?: string[]; names?: string[] }, page: PageRequest): Promise<{ spaces: SpaceView[]; total: number }> {
    const ids = await this.access.visibleSpaceIds(actor);
    const { spaces, total } = await this.repo.listSpaces({ ids, orgIds: filter.orgIds, names: filter.names }, page.skip, page.take);
    return { spaces: spaces.map(spaceView), total };
  }

  /** The space if the actor may do `action` in it: 404 when it may not see it, 403 when it may not do that. */
  async find(actor: Actor, id: string, action: 'read' | 'write' | 'manage'): Promise<SpaceWithOrg> {
    const space = isUuid(id) ? await this.repo.findSpace(id) : null;
    if (!space) throw notFound('space', id, 'list the spaces you can see with GET /v1/spaces');
    await this.access.require(actor, space.id, action, 'space', id);
    return space;
  }

  async get(actor: Actor, id: string): Promise<SpaceView> {
    return spaceView(await this.find(actor, id, 'read'));
  }

  async create(actor: Actor, input: { name: string; org_id: string }): Promise<SpaceView> {
    const org = await this.orgs.find(actor, input.org_id);
    this.access.requirePlatformAdmin(actor, 'creating a space');
    const space = await this.repo.createSpace(org.id, input.name);
    if (!space) throw new DomainException(ErrorCode.NameTaken, `org ${org.name} already has a space named ${input.name}: choose another name`);
    await this.events.record(actor, 'space-created', { type: 'space', id: space.id, name: space.name, spaceId: space.id }, { org_id: org.id });
    return spaceView(space);
  }

  async rename(actor: Actor, id: string, name: string): Promise<SpaceView> {
    const space = await this.find(actor, id, 'manage');
    if (space.name === name) return spaceView(space);
    const renamed = await this.repo.renameSpace(space.id, name);
    if (!renamed) throw new DomainException(ErrorCode.NameTaken, `org ${space.org.name} already has a space named ${name}: choose another name`);
    await this.events.record(actor, 'space-renamed', { type: 'space', id: space.id, name, spaceId: space.id }, { from: space.name, to: name });
    return spaceView(renamed);
  }

  /** Deletes an empty space with its routes and roles; 422 while it still has apps. */
  async delete(actor: Actor, id: string): Promise<void> {
    const space = await this.find(actor, id, 'read');
    this.access.requirePlatformAdmin(actor, 'deleting a space');
    const apps = await this.repo.countAppsOfSpace(space.id);
    const hosts = await this.repo.routeHostsOfSpace(space.id);
    if (apps > 0 || !(await this.repo.deleteSpace(space.id))) {
      throw new DomainException(
        ErrorCode.Unprocessable,
        `space ${space.name} still has ${apps || 'some'} app(s): delete them first (GET /v1/apps?space_ids=${space.id})`,
        { apps },
      );
    }
    for (const host of new Set(hosts.map((h) => fqdnOf(h.host, h.domain)))) await this.projection.syncHost(host);
    await this.events.record(actor, 'space-deleted', { type: 'space', id: space.id, name: space.name, spaceId: space.id }, { org_id: space.orgId });
  }

  async roles(actor: Actor, id: string, page: PageRequest): Promise<{ roles: RoleView[]; total: number }> {
    const space = await this.find(actor, id, 'read');
    const { roles, total } = await this.repo.listRoles(space.id, page.skip, page.take);
    return { roles: roles.map(roleView), total };
  }

  async setRole(actor: Actor, id: string, input: SetRoleRequest): Promise<RoleView> {
    const space = await this.find(actor, id, 'manage');
    const user = await this.repo.findUser({ id: input.user_id, name: input.user_name });
    if (!user) throw notFound('user', input.user_id ?? input.user_name ?? '', 'a platform admin creates users with POST /v1/users');
    const role = await this.repo.setRole(space.id, user.id, input.role === 'admin' ? 'ADMIN' : input.role === 'developer' ? 'DEVELOPER' : 'VIEWER');
    await this.events.record(actor, 'role-set', { type: 'user', id: user.id, name: user.name, spaceId: space.id }, { role: input.role, space_name: space.name });
    return roleView(role);
  }

  async removeRole(actor: Actor, id: string, userId: string): Promise<void> {
    const space = await this.find(actor, id, 'manage');
    const role = isUuid(userId) ? await this.repo.findRole(space.id, userId) : null;
    if (!role || !(await this.repo.removeRole(space.id, userId))) {
      throw notFound('role of user', userId, `in space ${space.name}: list them with GET /v1/spaces/${space.id}/roles`);
    }
    await this.events.record(actor, 'role-removed', { type: 'user', id: role.userId, name: role.user.name, spaceId: space.id }, {
      role: role.role.toLowerCase(),
      space_name: space.name,
    });
  }
}
