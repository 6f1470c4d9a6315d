import { Injectable } from '@nestjs/common';
import type { Build, Release } from '../generated/prisma/client';
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

  /** Marks the build staged and makes the next numbered release of its app, atomically. */
  createRelease(build: Build, buildpack: string, startCommand: string): Promise<Release> {
    return this.prisma.$transaction(async (tx) => {
      await tx.build.update({ where: { id: build.id }, data: { state: 'STAGED', buildpack, startCommand } });
      // Lock the app row so two concurrent builds never get the same version number.
      await tx.$queryRaw`SELECT id FROM apps WHERE id = ${build.appId}::uuid FOR UPDATE`;
      const last = await tx.release.findFirst({ where: { appId: build.appId }, orderBy: { version: 'desc' } });
      return tx.release.create({
        data: { appId: build.appId, buildId: build.id, version: (last?.version ?? 0) + 1, startCommand },
      });
    });
  }
}
