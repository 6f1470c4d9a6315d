import { Injectable } from '@nestjs/common';
import type { Build } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';

@Injectable()
export class BuildsRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(appId: string, commitSha: string): Promise<Build> {
    return this.prisma.build.create({ data: { appId, commitSha } });
  }

  async assignCell(id: string, cellId: string): Promise<void> {
    await this.prisma.build.update({ where: { id }, data: { cellId } });
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.prisma.build.update({ where: { id }, data: { state: 'FAILED', error } });
  }

  /** Marks the build staged and records its droplet (blob = the build id). */
  async markStaged(build: Build, buildpack: string, processTypes: Record<string, string>): Promise<string> {
    const [, droplet] = await this.prisma.$transaction([
      this.prisma.build.update({ where: { id: build.id }, data: { state: 'STAGED', buildpack, startCommand: processTypes.web ?? null } }),
      this.prisma.droplet.create({ data: { appId: build.appId, buildId: build.id, blobId: build.id, buildpack, processTypes } }),
    ]);
    return droplet.id;
  }

  async list(appId: string, skip: number, take: number): Promise<{ builds: Build[]; total: number }> {
    const [builds, total] = await this.prisma.$transaction([
      this.prisma.build.findMany({ where: { appId }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], skip, take }),
      this.prisma.build.count({ where: { appId } }),
    ]);
    return { builds, total };
  }
}
