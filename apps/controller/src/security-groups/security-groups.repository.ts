import { Injectable } from '@nestjs/common';
import type { Prisma, SecurityGroup, SecurityGroupBinding } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import { prismaErrorCode } from '../platform/common/query-params';

export type SecurityGroupWithBindings = SecurityGroup & { bindings: SecurityGroupBinding[] };

export type Lifecycle = 'running' | 'staging';

/** Security groups and their space bindings in Postgres. */
@Injectable()
export class SecurityGroupsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async list(filter: { names?: string[] }, skip: number, take: number): Promise<{ groups: SecurityGroupWithBindings[]; total: number }> {
    const where: Prisma.SecurityGroupWhereInput = filter.names ? { name: { in: filter.names } } : {};
    const [groups, total] = await this.prisma.$transaction([
      this.prisma.securityGroup.findMany({ where, include: { bindings: true }, orderBy: [{ name: 'asc' }], skip, take }),
      this.prisma.securityGroup.count({ where }),
    ]);
    return { groups, total };
  }

  find(id: string): Promise<SecurityGroupWithBindings | null> {
    return this.prisma.securityGroup.findUnique({ where: { id }, include: { bindings: true } });
  }

  findByName(name: string): Promise<SecurityGroupWithBindings | null> {
    return this.prisma.securityGroup.findUnique({ where: { name }, include: { bindings: true } });
  }

  /** undefined when the name is taken. */
  async create(data: { name: string; rules: unknown[]; runningDefault: boolean; stagingDefault: boolean }): Promise<SecurityGroupWithBindings | undefined> {
    try {
      return await this.prisma.securityGroup.create({
        data: { ...data, rules: data.rules as Prisma.InputJsonValue },
        include: { bindings: true },
      });
    } catch (error) {
      if (prismaErrorCode(error) === 'P2002') return undefined;
      throw error;
    }
  }

  /** undefined when the new name is taken. */
  async update(
    id: string,
    data: { name?: string; rules?: unknown[]; runningDefault?: boolean; stagingDefault?: boolean },
  ): Promise<SecurityGroupWithBindings | undefined> {
    try {
      return await this.prisma.securityGroup.update({
        where: { id },
        data: {
          ...(data.name !== undefined ? { name: data.name } : {}),
          ...(data.rules !== undefined ? { rules: data.rules as Prisma.InputJsonValue } : {}),
          ...(data.runningDefault !== undefined ? { runningDefault: data.runningDefault } : {}),
          ...(data.stagingDefault !== undefined ? { stagingDefault: data.stagingDefault } : {}),
        },
        include: { bindings: true },
      });
    } catch (error) {
      if (prismaErrorCode(error) === 'P2002') return undefined;
      throw error;
    }
  }

  async delete(id: string): Promise<void> {
    await this.prisma.securityGroup.deleteMany({ where: { id } });
  }

  /** Space ids of `ids` that exist. */
  async existingSpaceIds(ids: string[]): Promise<string[]> {
    return (await this.prisma.space.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((s) => s.id);
  }

  /** Binds (idempotent: an existing binding stays). */
  async bind(securityGroupId: string, spaceIds: string[], lifecycle: Lifecycle): Promise<void> {
    await this.prisma.securityGroupBinding.createMany({
      data: spaceIds.map((spaceId) => ({ securityGroupId, spaceId, lifecycle })),
      skipDuplicates: true,
    });
  }

  /** false when there was no such binding. */
  async unbind(securityGroupId: string, spaceId: string, lifecycle: Lifecycle): Promise<boolean> {
    const { count } = await this.prisma.securityGroupBinding.deleteMany({ where: { securityGroupId, spaceId, lifecycle } });
    return count > 0;
  }

  /** The groups that apply to a space's containers of one lifecycle: its bindings and the platform defaults, by name. */
  async applying(spaceId: string, lifecycle: Lifecycle): Promise<SecurityGroup[]> {
    return this.prisma.securityGroup.findMany({
      where: {
        OR: [lifecycle === 'running' ? { runningDefault: true } : { stagingDefault: true }, { bindings: { some: { spaceId, lifecycle } } }],
      },
      orderBy: [{ name: 'asc' }],
    });
  }
}
