import { Injectable } from '@nestjs/common';
import type { Prisma, Release, Droplet } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';

export type ReleaseWithDroplet = Release & { droplet: Droplet };

export interface NewRelease {
  appId: string;
  dropletId: string;
  env: Record<string, string>;
  processTypes: Record<string, string>;
  description: string;
}

@Injectable()
export class ReleasesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Makes the next numbered release of an app. The app row is locked for the transaction, so
   * concurrent changes never get the same number (no duplicate release).
   */
  async create(release: NewRelease, tx?: Prisma.TransactionClient): Promise<ReleaseWithDroplet> {
    const run = async (t: Prisma.TransactionClient) => {
      await t.$queryRaw`SELECT id FROM apps WHERE id = ${release.appId}::uuid FOR UPDATE`;
      const last = await t.release.findFirst({ where: { appId: release.appId }, orderBy: { version: 'desc' } });
      return t.release.create({
        data: {
          appId: release.appId,
          dropletId: release.dropletId,
          env: release.env,
          processTypes: release.processTypes,
          description: release.description,
          version: (last?.version ?? 0) + 1,
        },
        include: { droplet: true },
      });
    };
    return tx ? run(tx) : this.prisma.$transaction(run);
  }

  find(id: string): Promise<ReleaseWithDroplet | null> {
    return this.prisma.release.findUnique({ where: { id }, include: { droplet: true } });
  }

  findVersion(appId: string, version: number): Promise<ReleaseWithDroplet | null> {
    return this.prisma.release.findUnique({ where: { appId_version: { appId, version } }, include: { droplet: true } });
  }

  async list(appId: string, skip: number, take: number): Promise<{ releases: ReleaseWithDroplet[]; total: number }> {
    const [releases, total] = await this.prisma.$transaction([
      this.prisma.release.findMany({ where: { appId }, include: { droplet: true }, orderBy: { version: 'desc' }, skip, take }),
      this.prisma.release.count({ where: { appId } }),
    ]);
    return { releases, total };
  }
}
