import { Injectable } from '@nestjs/common';
import type { CellPresence } from '@paas/contracts';
import { listLiveCells } from '@paas/redis';
import { PrismaService } from '../platform/database/prisma.service';
import { RedisService } from '../platform/redis/redis.module';

/** Counts the controller's gauges read at scrape time: a few grouped counts, no rows. */
@Injectable()
export class MetricsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
  ) {}

  async appsByState(): Promise<Map<string, number>> {
    const rows = await this.prisma.app.groupBy({ by: ['state'], _count: { _all: true } });
    return new Map(rows.map((r) => [r.state, r._count._all]));
  }

  async deploymentsByState(): Promise<Map<string, number>> {
    const rows = await this.prisma.deployment.groupBy({ by: ['state'], _count: { _all: true } });
    return new Map(rows.map((r) => [r.state, r._count._all]));
  }

  async buildsByState(): Promise<Map<string, number>> {
    const rows = await this.prisma.build.groupBy({ by: ['state'], _count: { _all: true } });
    return new Map(rows.map((r) => [r.state, r._count._all]));
  }

  /** Fails fast while Redis is out of reach: a scrape never hangs. */
  liveCells(): Promise<CellPresence[]> {
    return listLiveCells(this.redis.reads, this.redis.keys);
  }
}
