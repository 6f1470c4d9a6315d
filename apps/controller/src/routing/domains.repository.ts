import { Injectable } from '@nestjs/common';
import type { Domain, Org, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import type { DomainException } from '../platform/common/domain.exception';
import { prismaErrorCode } from '../platform/common/query-params';
import { parentNames, type ClaimDecision } from './domain-claim.rules';

export type DomainWithOrg = Domain & { org: Org | null };

/** What a claim did: created the domain (after deleting the stale claims it replaces), was refused, or lost a race for the name. */
export type ClaimResult =
  | { kind: 'created'; domain: DomainWithOrg; replaced: Domain[] }
  | { kind: 'refused'; error: DomainException }
  | { kind: 'taken' };

/** Key of the advisory lock that makes domain claims one at a time (the migrator holds 724001). */
const CLAIM_LOCK = 724_016;

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

  /** Every domain whose name is `name`, contains it or is contained in it (a.b vs x.a.b): their hosts would collide. */
  findOverlapping(name: string, tx: Prisma.TransactionClient = this.prisma): Promise<Domain[]> {
    return tx.domain.findMany({ where: { OR: [{ name: { in: [name, ...parentNames(name)] } }, { name: { endsWith: `.${name}` } }] } });
  }

  /**
   * Creates the domain unless `decide`, given the domains overlapping its name, refuses; deletes
   * the claims the decision replaces first. Claims run one at a time (a transaction-scoped
   * advisory lock), so two overlapping claims made at once cannot both pass the check.
   */
  async claim(
    input: { name: string; orgId: string | null; verificationToken: string | null; verifiedAt: Date | null },
    decide: (existing: Domain[]) => ClaimDecision<Domain>,
  ): Promise<ClaimResult> {
    try {
      return await this.prisma.$transaction(async (tx): Promise<ClaimResult> => {
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${CLAIM_LOCK})`);
        const decision = decide(await this.findOverlapping(input.name, tx));
        if (decision.kind === 'refused') return decision;
        const stale = decision.replace.map((d) => d.id);
        if (stale.length > 0) await tx.domain.deleteMany({ where: { id: { in: stale }, verifiedAt: null } });
        const domain = await tx.domain.create({ data: input, include: { org: true } });
        return { kind: 'created', domain, replaced: decision.replace };
      });
    } catch (error) {
      if (prismaErrorCode(error) === 'P2002') return { kind: 'taken' };
      throw error;
    }
  }

  /** Marks the domain verified if it still waits for this token; false when it does not (verified, deleted or replaced meanwhile). */
  async markVerified(id: string, token: string, at: Date): Promise<boolean> {
    const { count } = await this.prisma.domain.updateMany({
      where: { id, verificationToken: token, verifiedAt: null },
      data: { verifiedAt: at, verificationToken: null, verificationError: null },
    });
    return count === 1;
  }

  async recordVerificationError(id: string, token: string, message: string): Promise<void> {
    await this.prisma.domain.updateMany({ where: { id, verificationToken: token, verifiedAt: null }, data: { verificationError: message } });
  }

  /** Domains that wait for verification (their tokens are served by the routers). */
  pending(): Promise<Domain[]> {
    return this.prisma.domain.findMany({ where: { verifiedAt: null, verificationToken: { not: null } } });
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
