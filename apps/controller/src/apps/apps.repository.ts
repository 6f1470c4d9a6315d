import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import type { App, Process, Space, Org } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';
import { retryOnConflict } from '../platform/common/retry-on-conflict';

export type AppRecord = App;
export type AppWithSpace = App & { space: Space & { org: Org } };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AppFilter {
  spaceIds?: string[];
  names?: string[];
}

@Injectable()
export class AppsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The "default" space of the "default" org, where apps go when no space is named. */
  async defaultSpaceId(): Promise<string> {
    const org = await retryOnConflict(() => this.prisma.org.upsert({ where: { name: 'default' }, create: { name: 'default' }, update: {} }));
    const space = await retryOnConflict(() =>
      this.prisma.space.upsert({
        where: { orgId_name: { orgId: org.id, name: 'default' } },
        create: { orgId: org.id, name: 'default' },
        update: {},
      }),
    );
    return space.id;
  }

  spaceExists(spaceId: string): Promise<Space | null> {
    return this.prisma.space.findUnique({ where: { id: spaceId } });
  }

  /** Creates the app with its web process; undefined when the name is taken. */
  async create(spaceId: string, name: string, tx: Prisma.TransactionClient = this.prisma): Promise<AppRecord | undefined> {
    try {
      return await tx.app.create({ data: { name, spaceId, processes: { create: [{ type: 'web' }] } } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  /** By id or by name (names are unique across the platform). */
  find(idOrName: string): Promise<AppWithSpace | null> {
    const where = UUID.test(idOrName) ? { id: idOrName } : { name: idOrName };
    return this.prisma.app.findUnique({ where, include: { space: { include: { org: true } } } });
  }

  findByName(name: string): Promise<AppRecord | null> {
    return this.prisma.app.findUnique({ where: { name } });
  }

  async list(filter: AppFilter, skip: number, take: number): Promise<{ apps: AppWithSpace[]; total: number }> {
    const where: Prisma.AppWhereInput = {
      ...(filter.spaceIds ? { spaceId: { in: filter.spaceIds } } : {}),
      ...(filter.names ? { name: { in: filter.names } } : {}),
    };
    const [apps, total] = await this.prisma.$transaction([
      this.prisma.app.findMany({ where, include: { space: { include: { org: true } } }, orderBy: [{ name: 'asc' }, { id: 'asc' }], skip, take }),
      this.prisma.app.count({ where }),
    ]);
    return { apps, total };
  }

  /** Renames; false when the new name is taken. */
  async rename(id: string, name: string): Promise<boolean> {
    try {
      await this.prisma.app.update({ where: { id }, data: { name } });
      return true;
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return false;
      throw error;
    }
  }

  async setState(id: string, state: 'STARTED' | 'STOPPED'): Promise<void> {
    await this.prisma.app.update({ where: { id }, data: { state } });
  }

  processes(appId: string): Promise<Process[]> {
    return this.prisma.process.findMany({ where: { appId }, orderBy: { type: 'asc' } });
  }

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
