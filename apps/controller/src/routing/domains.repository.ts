import { Injectable } from '@nestjs/common';
import type { Domain, Org, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import { prismaErrorCode } from '../platform/common/query-params';

export type DomainWithOrg = Domain & { org: Org | null };

/** Domains in Postgres: shared ones (no org) and private ones owned by an org. */
@Injectable()
export class DomainsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** `orgIds` undefined: every domain; else the shared domains and the private ones of those orgs. */
  async list(filter: { visibleOrgIds?: string[]; orgIds?: string[]; names?: string[] }, skip: number, take: number): Promise<{ domains: DomainWithOrg[]; total: number }> {
    const and: Prisma.DomainWhereInput[] = [];
    if (filter.visibleOrgIds) and.push({ OR: [{ orgId: null }, { orgId: { in: filter.visibleOrgIds } }] });
    if (filter.orgIds) and.push({ orgId: { in: filter.orgIds } });
    if (filter.names) and.push({ name: { in: filter.names } });
    const where: Prisma.DomainWhereInput = { AND: and };
    const [domains, total] = await this.prisma.$transaction([
      this.prisma.domain.findMany({ where, include: { org: true }, orderBy: [{ name: 'asc' }, { id: 'asc' }], skip, take }),
      this.prisma.domain.count({ where }),
    ]);
    return { domains, total };
  }

  find(id: string): Promise<DomainWithOrg | null> {
    return this.prisma.domain.findUnique({ where: { id }, include: { org: true } });
  }

  findOrg(id: string): Promise<Org | null> {
    return this.prisma.org.findUnique({ where: { id } });
  }

  /** A domain that contains `name` or that `name` contains (a.b vs x.a.b): their hosts would collide. */
  async findNested(name: string): Promise<Domain | null> {
    const parents: string[] = [];
    for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) parents.push(name.slice(i + 1));
    return this.prisma.domain.findFirst({ where: { OR: [{ name: { in: parents } }, { name: { endsWith: `.${name}` } }] } });
  }

  /** undefined when the name is taken. */
  async create(name: string, orgId: string | null): Promise<DomainWithOrg | undefined> {
    try {
      return await this.prisma.domain.create({ data: { name, orgId }, include: { org: true } });
    } catch (error) {
      if (prismaErrorCode(error) === 'P2002') return undefined;
      throw error;
    }
  }

  countRoutes(domainId: string): Promise<number> {
    return this.prisma.route.count({ where: { domainId } });
  }

  /** false when a route was created on it meanwhile. */
  async delete(id: string): Promise<boolean> {
    try {
      await this.prisma.domain.deleteMany({ where: { id } });
      return true;
    } catch (error) {
      if (prismaErrorCode(error) === 'P2003') return false;
      throw error;
    }
  }
}
