import { Injectable } from '@nestjs/common';
import type { ActualInstance, CellPresence } from '@paas/contracts';
import { listAllInstances, listLiveCells } from '@paas/redis';
import { PrismaService } from '../platform/database/prisma.service';
import { RedisService } from '../platform/redis/redis.module';

/**
 * What the cells report (Redis: presence and actual instances) and the app facts to explain it
 * (Postgres). Redis is read through the fail-fast connection: these are API answers.
 */
@Injectable()
export class CellsRepository {
  constructor(
    private readonly redis: RedisService,
    private readonly prisma: PrismaService,
  ) {}

  liveCells(): Promise<CellPresence[]> {
    return listLiveCells(this.redis.reads, this.redis.keys);
  }

  /** Every instance any cell reported, found by scanning the per-app instance hashes. */
  allInstances(): Promise<ActualInstance[]> {
    return listAllInstances(this.redis.reads, this.redis.keys);
  }

  /** Memory per (app, process type) and app names and spaces, for the apps given. */
  async appFacts(appIds: string[]): Promise<Map<string, { name: string; spaceId: string; memoryMb: Map<string, number> }>> {
    const apps = await this.prisma.app.findMany({
      where: { id: { in: appIds } },
      select: { id: true, name: true, spaceId: true, processes: { select: { type: true, memoryMb: true } } },
    });
    return new Map(apps.map((a) => [a.id, { name: a.name, spaceId: a.spaceId, memoryMb: new Map(a.processes.map((p) => [p.type, p.memoryMb])) }]));
  }
}
