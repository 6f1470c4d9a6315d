import { Injectable } from '@nestjs/common';
import type { Domain, Org, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import type { DomainException } from '../platform/common/domain.exception';
import { prismaErrorCode } from '../platform/common/query-params';
import { parentNames, type ClaimDecision, type VerifyDecision } from './domain-claim.rules';

export type DomainWithOrg = Domain & { org: Org | null };

/** What a claim did: created the domain, was refused, or lost a race for the name. */
export type ClaimResult = { kind: 'created'; domain: DomainWithOrg; removed: Domain[] } | { kind: 'refused'; error: DomainException } | { kind: 'taken' };

/** What a verification did: verified it (deleting the other orgs' claims it beat), was refused (a domain verified first holds the name), or found it no longer waiting for this token. */
export type VerifyResult = { kind: 'verified'; removed: Domain[] } | { kind: 'refused'; error: DomainException } | { kind: 'gone' };

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
   * Creates the domain unless `decide`, given the domains overlapping its name, refuses. Claims
   * and verifications run one at a time (a transaction-scoped advisory lock), so two overlapping
   * ones made at once cannot both pass the check.
   */
  async claim(
    input: { name: string; orgId: string | null; verificationToken: string | null; verifiedAt: Date | null },
    decide: (existing: Domain[]) => ClaimDecision,
  ): Promise<ClaimResult> {
    try {
      return await this.prisma.$transaction(async (tx): Promise<ClaimResult> => {
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${CLAIM_LOCK})`);
        const existing = await this.findOverlapping(input.name, tx);
        const decision = decide(existing);
        if (decision.kind === 'refused') return decision;
        // A domain verified at once (a platform admin's) beats the other orgs' pending claims of its names, as a verification does.
        const removed = input.verifiedAt ? existing.filter((d) => d.verifiedAt === null && d.orgId !== input.orgId) : [];
        if (removed.length > 0) await tx.domain.deleteMany({ where: { id: { in: removed.map((d) => d.id) }, verifiedAt: null } });
        const domain = await tx.domain.create({ data: input, include: { org: true } });
        return { kind: 'created', domain, removed };
      });
    } catch (error) {
      if (prismaErrorCode(error) === 'P2002') return { kind: 'taken' };
      throw error;
    }
  }

  /**
   * Marks the domain verified if it still waits for this token and `decide`, given the domains
   * overlapping its name, agrees; deletes the claims the decision removes (other orgs' pending
   * ones) in the same transaction, under the claims' lock.
   */
  async markVerified(id: string, token: string, at: Date, decide: (domain: Domain, existing: Domain[]) => VerifyDecision<Domain>): Promise<VerifyResult> {
    try {
      return await this.prisma.$transaction(async (tx): Promise<VerifyResult> => {
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${CLAIM_LOCK})`);
        const domain = await tx.domain.findFirst({ where: { id, verificationToken: token, verifiedAt: null } });
        if (!domain) return { kind: 'gone' };
        const decision = decide(domain, await this.findOverlapping(domain.name, tx));
        if (decision.kind === 'refused') return decision;
        const removed = decision.remove.map((d) => d.id);
        if (removed.length > 0) await tx.domain.deleteMany({ where: { id: { in: removed }, verifiedAt: null } });
        await tx.domain.update({ where: { id }, data: { verifiedAt: at, verificationToken: null, verificationError: null } });
        return { kind: 'verified', removed: decision.remove };
      });
    } catch (error) {
      // The name was verified by another claim at the same moment (the partial unique index).
      if (prismaErrorCode(error) === 'P2002') return { kind: 'gone' };
      throw error;
    }
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
