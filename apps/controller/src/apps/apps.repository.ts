import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import type { App } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';

export type AppRecord = App;

@Injectable()
export class AppsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Creates the app; returns undefined when the name is taken (unique violation). */
  async create(name: string): Promise<AppRecord | undefined> {
    try {
      return await this.prisma.app.create({ data: { name } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  findByName(name: string): Promise<AppRecord | null> {
    return this.prisma.app.findUnique({ where: { name } });
  }

  list(): Promise<AppRecord[]> {
    return this.prisma.app.findMany({ orderBy: { name: 'asc' } });
  }

  /** Ids of the app's builds: each names a source package and a droplet in the blobstore. */
  async buildIds(appId: string): Promise<string[]> {
    return (await this.prisma.build.findMany({ where: { appId }, select: { id: true } })).map((b) => b.id);
  }

  async delete(id: string): Promise<void> {
    await this.prisma.app.deleteMany({ where: { id } });
  }

  async setCurrentRelease(appId: string, releaseId: string): Promise<void> {
    await this.prisma.app.update({ where: { id: appId }, data: { currentReleaseId: releaseId } });
  }
}
