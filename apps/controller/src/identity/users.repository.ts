import { Injectable } from '@nestjs/common';
import type { ApiToken, Org, Prisma, Space, SpaceRole, User } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import { prismaErrorCode } from '../platform/common/query-params';

export type UserWithRoles = User & { roles: Array<SpaceRole & { space: Space & { org: Org } }> };

/** Users and their API tokens (stored hashed) in Postgres. */
@Injectable()
export class UsersRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** `visibleSpaceIds` undefined: every user; else the users holding a role in one of those spaces, plus `selfId`. */
  async list(filter: { visibleSpaceIds?: string[]; selfId: string; names?: string[] }, skip: number, take: number): Promise<{ users: User[]; total: number }> {
    const where: Prisma.UserWhereInput = {
      ...(filter.visibleSpaceIds ? { OR: [{ id: filter.selfId }, { roles: { some: { spaceId: { in: filter.visibleSpaceIds } } } }] } : {}),
      ...(filter.names ? { name: { in: filter.names } } : {}),
    };
    const [users, total] = await this.prisma.$transaction([
      this.prisma.user.findMany({ where, orderBy: [{ name: 'asc' }, { id: 'asc' }], skip, take }),
      this.prisma.user.count({ where }),
    ]);
    return { users, total };
  }

  find(id: string): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { id } });
  }

  findWithRoles(id: string): Promise<UserWithRoles | null> {
    return this.prisma.user.findUnique({
      where: { id },
      include: { roles: { include: { space: { include: { org: true } } }, orderBy: { createdAt: 'asc' } } },
    });
  }

  /** Whether the user holds a role in one of these spaces. */
  async hasRoleIn(userId: string, spaceIds: string[]): Promise<boolean> {
    return (await this.prisma.spaceRole.count({ where: { userId, spaceId: { in: spaceIds } } })) > 0;
  }

  /** undefined when the name is taken. */
  async create(name: string, isAdmin: boolean): Promise<User | undefined> {
    try {
      return await this.prisma.user.create({ data: { name, isAdmin } });
    } catch (error) {
      if (prismaErrorCode(error) === 'P2002') return undefined;
      throw error;
    }
  }

  /** Deletes the user with its tokens and roles. */
  async delete(id: string): Promise<void> {
    await this.prisma.user.deleteMany({ where: { id } });
  }

  createToken(userId: string, name: string, tokenHash: string): Promise<ApiToken> {
    return this.prisma.apiToken.create({ data: { userId, name, tokenHash } });
  }

  async listTokens(userId: string, skip: number, take: number): Promise<{ tokens: ApiToken[]; total: number }> {
    const where = { userId };
    const [tokens, total] = await this.prisma.$transaction([
      this.prisma.apiToken.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], skip, take }),
      this.prisma.apiToken.count({ where }),
    ]);
    return { tokens, total };
  }

  findToken(userId: string, tokenId: string): Promise<ApiToken | null> {
    return this.prisma.apiToken.findFirst({ where: { id: tokenId, userId } });
  }

  async deleteToken(userId: string, tokenId: string): Promise<boolean> {
    const { count } = await this.prisma.apiToken.deleteMany({ where: { id: tokenId, userId } });
    return count > 0;
  }
}
