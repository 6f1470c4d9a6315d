import { Injectable } from '@nestjs/common';
import type { SpaceRole } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';

/** Reads the roles users hold in spaces (AccessService decides what they allow). */
@Injectable()
export class SpaceRolesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Ids of the spaces the user holds a role in. */
  async spaceIdsOf(userId: string): Promise<string[]> {
    const roles = await this.prisma.spaceRole.findMany({ where: { userId }, select: { spaceId: true } });
    return roles.map((r) => r.spaceId);
  }

  /** Org ids of the spaces the user holds a role in, one entry per role. */
  async orgIdsOf(userId: string): Promise<string[]> {
    const spaces = await this.prisma.spaceRole.findMany({ where: { userId }, select: { space: { select: { orgId: true } } } });
    return spaces.map((s) => s.space.orgId);
  }

  /** The user's role in the space, or null when it holds none. */
  roleIn(userId: string, spaceId: string): Promise<SpaceRole | null> {
    return this.prisma.spaceRole.findUnique({ where: { userId_spaceId: { userId, spaceId } } });
  }

  /** Whether the user holds `role` in at least one space of the org. */
  async holdsRoleInOrg(userId: string, orgId: string, role: SpaceRole['role']): Promise<boolean> {
    return (await this.prisma.spaceRole.count({ where: { userId, role, space: { orgId } } })) > 0;
  }
}
