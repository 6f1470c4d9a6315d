import { Injectable } from '@nestjs/common';
import type { AcmeAccount, Certificate, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import type { CertificateDomain } from './certificate-names.util';

export type { Certificate };

/** What an issuance (upload, ACME, local CA) writes. */
export interface IssuedFields {
  names: string[];
  chainPem: string;
  keySealed: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Certificates and ACME accounts in Postgres, and the two reads certificates need from elsewhere:
 * domains (by name, to check who holds a certificate's names) and the roles a user holds in an
 * org's spaces.
 */
@Injectable()
export class CertificatesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** `visibleOrgIds` undefined: all; else the platform's (org null) and those orgs'. `names`: certificates covering any of them. */
  async list(filter: { visibleOrgIds?: string[]; orgIds?: string[]; names?: string[] }, skip: number, take: number): Promise<{ certificates: Certificate[]; total: number }> {
    const and: Prisma.CertificateWhereInput[] = [];
    if (filter.visibleOrgIds) and.push({ OR: [{ orgId: null }, { orgId: { in: filter.visibleOrgIds } }] });
    if (filter.orgIds) and.push({ orgId: { in: filter.orgIds } });
    if (filter.names) and.push({ names: { hasSome: filter.names.map((n) => n.toLowerCase()) } });
    const where: Prisma.CertificateWhereInput = { AND: and };
    const [certificates, total] = await this.prisma.$transaction([
      this.prisma.certificate.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], skip, take }),
      this.prisma.certificate.count({ where }),
    ]);
    return { certificates, total };
  }

  find(id: string): Promise<Certificate | null> {
    return this.prisma.certificate.findUnique({ where: { id } });
  }

  /**
   * Domains named any of `names` (exact names; see candidateDomainNames): the verified ones, and
   * the pending claims of `orgIds` (undefined: every pending claim, for platform admins), never
   * another org's pending claim.
   */
  domainsNamed(names: string[], orgIds?: string[]): Promise<CertificateDomain[]> {
    const claims = orgIds === undefined ? {} : { OR: [{ verifiedAt: { not: null } }, { orgId: { in: orgIds } }] };
    return this.prisma.domain.findMany({ where: { name: { in: names }, ...claims }, select: { id: true, name: true, orgId: true, verifiedAt: true } });
  }

  /** The roles `userId` holds in the spaces of `orgId` (one per space). */
  async rolesInOrg(userId: string, orgId: string): Promise<string[]> {
    const roles = await this.prisma.spaceRole.findMany({ where: { userId, space: { orgId } }, select: { role: true } });
    return roles.map((r) => r.role);
  }

  createIssued(orgId: string | null, source: 'upload' | 'platform', fields: IssuedFields): Promise<Certificate> {
    return this.prisma.certificate.create({ data: { orgId, source, state: 'issued', ...fields } });
  }

  createPending(orgId: string | null, names: string[]): Promise<Certificate> {
    return this.prisma.certificate.create({ data: { orgId, source: 'acme', state: 'pending', names } });
  }

  /** false when it was gone already. */
  async delete(id: string): Promise<boolean> {
    return (await this.prisma.certificate.deleteMany({ where: { id } })).count === 1;
  }

  /** A new chain and key for a certificate (issued or renewed): the error and backoff are cleared. Null when it was deleted meanwhile. */
  async recordIssued(id: string, fields: IssuedFields): Promise<Certificate | null> {
    const { count } = await this.prisma.certificate.updateMany({
      where: { id },
      data: { ...fields, state: 'issued', lastError: null, attempts: 0, nextAttemptAt: null },
    });
    return count ? this.find(id) : null;
  }

  /** A failed ACME attempt; `state` stays issued for a certificate still served. */
  async recordFailure(id: string, state: 'failed' | 'issued' | 'expired', lastError: string, attempts: number, nextAttemptAt: Date): Promise<void> {
    await this.prisma.certificate.updateMany({ where: { id }, data: { state, lastError, attempts, nextAttemptAt } });
  }

  /** Certificates with a chain, key and not_after after `now`, not expired: what the routers serve. */
  served(now: Date): Promise<Certificate[]> {
    return this.prisma.certificate.findMany({
      where: { chainPem: { not: null }, keySealed: { not: null }, notAfter: { gt: now }, state: { not: 'expired' } },
    });
  }

  /** Marks `expired` every certificate past its not_after; returns them. */
  async expire(now: Date): Promise<Certificate[]> {
    const due = await this.prisma.certificate.findMany({ where: { state: { in: ['issued', 'failed'] }, notAfter: { lte: now } } });
    if (due.length) await this.prisma.certificate.updateMany({ where: { id: { in: due.map((c) => c.id) }, notAfter: { lte: now } }, data: { state: 'expired' } });
    return due;
  }

  /**
   * ACME certificates to order now: never issued (pending, failed), or issued and within the
   * renewal window (not_after ≤ renewFrom), or expired; and not backing off (next_attempt_at ≤ now).
   */
  acmeDue(now: Date, renewFrom: Date): Promise<Certificate[]> {
    return this.prisma.certificate.findMany({
      where: {
        source: 'acme',
        OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lte: now } }],
        AND: [{ OR: [{ state: { in: ['pending', 'failed', 'expired'] } }, { state: 'issued', notAfter: { lte: renewFrom } }] }],
      },
      orderBy: [{ createdAt: 'asc' }],
    });
  }

  /** The newest platform certificate covering exactly `names` (order aside). */
  async platformCertificate(names: string[]): Promise<Certificate | null> {
    const all = await this.prisma.certificate.findMany({ where: { source: 'platform', names: { hasEvery: names } }, orderBy: [{ notAfter: 'desc' }] });
    return all.find((c) => c.names.length === names.length) ?? null;
  }

  /** Other platform certificates for the same names (replaced ones), to delete. */
  async otherPlatformCertificates(keepId: string, names: string[]): Promise<Certificate[]> {
    const all = await this.prisma.certificate.findMany({ where: { source: 'platform', names: { hasEvery: names }, id: { not: keepId } } });
    return all.filter((c) => c.names.length === names.length);
  }

  acmeAccount(directoryUrl: string): Promise<AcmeAccount | null> {
    return this.prisma.acmeAccount.findUnique({ where: { directoryUrl } });
  }

  /** Creates the account row unless another replica did first; returns the row that won. */
  async createAcmeAccount(directoryUrl: string, keySealed: string): Promise<AcmeAccount> {
    await this.prisma.acmeAccount.createMany({ data: [{ directoryUrl, keySealed }], skipDuplicates: true });
    return this.prisma.acmeAccount.findUniqueOrThrow({ where: { directoryUrl } });
  }

  async setAcmeAccountUrl(directoryUrl: string, accountUrl: string): Promise<void> {
    await this.prisma.acmeAccount.update({ where: { directoryUrl }, data: { accountUrl } });
  }
}
