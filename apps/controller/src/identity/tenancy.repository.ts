import { Injectable } from '@nestjs/common';
import type { Org, Prisma, Space, SpaceRole, SpaceRoleName, User } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import { prismaErrorCode } from '../platform/common/query-params';

export type SpaceWithOrg = Space & { org: Org };
export type RoleWithUser = SpaceRole & { user: User };

/** Orgs, spaces and space roles in Postgres. Writes answer undefined/false on a name clash instead of throwing. */
@Injectable()
export class TenancyRepository {
  constructor(private readonly prisma: PrismaService) {}

  // ---- orgs

  async listOrgs(filter: { ids?: string[]; names?: string[] }, skip: number, take: number): Promise<{ orgs: Org[]; total: number }> {
    const where: Prisma.OrgWhereInput = {
      ...(filter.ids ? { id: { in: filter.ids } } : {}),
      ...(filter.names ? { name: { in: filter.names } } : {}),
    };
    const [orgs, total] = await this.prisma.$transaction([
      this.prisma.org.findMany({ where, orderBy: [{ name: 'asc' }, { id: 'asc' }], skip, take }),
      this.prisma.org.count({ where }),
    ]);
    return { orgs, total };
  }

  findOrg(id: string): Promise<Org | null> {
    return this.prisma.org.findUnique({ where: { id } });
  }

  /** undefined when the name is taken. */
  async createOrg(name: string): Promise<Org | undefined> {
    try {
      return await this.prisma.org.create({ data: { name } });
    } catch (error) {
      if (prismaErrorCode(error) === 'P2002') return undefined;
      throw error;
    }
  }

  /** undefined when the name is taken. */
  async renameOrg(id: string, name: string): Promise<Org | undefined> {
    try {
      return await this.prisma.org.update({ where: { id }, data: { name } });
    } catch (error) {
      if (prismaErrorCode(error) === 'P2002') return undefined;
      throw error;
    }
  }

  countSpacesOfOrg(orgId: string): Promise<number> {
    return this.prisma.space.count({ where: { orgId } });
  }

  /** Deletes the org (its private domains go with it); false when a space was created meanwhile. */
  async deleteOrg(id: string): Promise<boolean> {
    try {
      await this.prisma.org.deleteMany({ where: { id } });
      return true;
    } catch (error) {
      if (prismaErrorCode(error) === 'P2003') return false;
      throw error;
    }
  }

  // ---- spaces

  async listSpaces(filter: { ids?: string[]; orgIds?: string[]; names?: string[] }, skip: number, take: number): Promise<{ spaces: SpaceWithOrg[]; total: number }> {
    const where: Prisma.SpaceWhereInput = {
      ...(filter.ids ? { id: { in: filter.ids } } : {}),
      ...(filter.orgIds ? { orgId: { in: filter.orgIds } } : {}),
      ...(filter.names ? { name: { in: filter.names } } : {}),
    };
    const [spaces, total] = await this.prisma.$transaction([
      this.prisma.space.findMany({ where, include: { org: true }, orderBy: [{ org: { name: 'asc' } }, { name: 'asc' }, { id: 'asc' }], skip, take }),
      this.prisma.space.count({ where }),
    ]);
    return { spaces, total };
  }

  findSpace(id: string): Promise<SpaceWithOrg | null> {
    return this.prisma.space.findUnique({ where: { id }, include: { org: true } });
  }

  /** undefined when the org already has a space of that name. */
  async createSpace(orgId: string, name: string): Promise<SpaceWithOrg | undefined> {
    try {
      return await this.prisma.space.create({ data: { orgId, name }, include: { org: true } });
    } catch (error) {
      if (prismaErrorCode(error) === 'P2002') return undefined;
      throw error;
    }
  }

  async renameSpace(id: string, name: string): Promise<SpaceWithOrg | undefined> {
    try {
      return await this.prisma.space.update({ where: { id }, data: { name }, include: { org: true } });
    } catch (error) {
      if (prismaErrorCode(error) === 'P2002') return undefined;
      throw error;
    }
  }

  countAppsOfSpace(spaceId: string): Promise<number> {
    return this.prisma.app.count({ where: { spaceId } });
  }

  /** The fully qualified hosts of the space's routes (to re-project once they are gone). */
  async routeHostsOfSpace(spaceId: string): Promise<Array<{ host: string; domain: string }>> {
    const routes = await this.prisma.route.findMany({ where: { spaceId }, select: { host: true, domain: { select: { name: true } } } });
    return routes.map((r) => ({ host: r.host, domain: r.domain.name }));
  }

  /** Deletes the space with its routes and roles; false when an app was created in it meanwhile. */
  async deleteSpace(id: string): Promise<boolean> {
    try {
      await this.prisma.space.deleteMany({ where: { id } });
      return true;
    } catch (error) {
      if (prismaErrorCode(error) === 'P2003') return false;
      throw error;
    }
  }

  // ---- roles

  async listRoles(spaceId: string, skip: number, take: number): Promise<{ roles: RoleWithUser[]; total: number }> {
    const where = { spaceId };
    const [roles, total] = await this.prisma.$transaction([
      this.prisma.spaceRole.findMany({ where, include: { user: true }, orderBy: [{ user: { name: 'asc' } }, { userId: 'asc' }], skip, take }),
      this.prisma.spaceRole.count({ where }),
    ]);
    return { roles, total };
  }

  findUser(idOrName: { id?: string; name?: string }): Promise<User | null> {
    if (idOrName.id) return this.prisma.user.findUnique({ where: { id: idOrName.id } });
    return this.prisma.user.findUnique({ where: { name: idOrName.name ?? '' } });
  }

  setRole(spaceId: string, userId: string, role: SpaceRoleName): Promise<RoleWithUser> {
    return this.prisma.spaceRole.upsert({
      where: { userId_spaceId: { userId, spaceId } },
      create: { userId, spaceId, role },
      update: { role },
      include: { user: true },
    });
  }

  findRole(spaceId: string, userId: string): Promise<RoleWithUser | null> {
    return this.prisma.spaceRole.findUnique({ where: { userId_spaceId: { userId, spaceId } }, include: { user: true } });
  }

  async removeRole(spaceId: string, userId: string): Promise<boolean> {
    const { count } = await this.prisma.spaceRole.deleteMany({ where: { spaceId, userId } });
    return count > 0;
  }
}
