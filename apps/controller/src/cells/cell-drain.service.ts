import { Injectable } from '@nestjs/common';
import { endCellDrain, listLiveCells, markCellDrained } from '@paas/redis';
import { AccessService } from '../auth/access.service';
import type { Actor } from '../auth/actor';
import { notFound } from '../platform/common/domain.exception';
import { EventsService } from '../audit/events.service';
import { RedisService } from '../platform/redis/redis.module';

/** Drain a cell: it takes no new work; the convergence loop starts its instances elsewhere, then stops them there. */
@Injectable()
export class CellDrainService {
  constructor(
    private readonly access: AccessService,
    private readonly redis: RedisService,
    private readonly events: EventsService,
  ) {}

  /** Marks a live cell drained (platform admin) for a day; 404 when no such cell is live. */
  async drain(actor: Actor, id: string): Promise<{ id: string; state: string }> {
    this.access.requirePlatformAdmin(actor, 'draining a cell');
    const cell = (await listLiveCells(this.redis.redis, this.redis.keys)).find((c) => c.id === id);
    if (!cell) throw notFound('cell', id, 'list the live cells with GET /v1/cells');
    await markCellDrained(this.redis.redis, this.redis.keys, id, 24 * 3600);
    await this.events.record(actor, 'cell-drain-requested', { type: 'cell', id, name: id });
    return { id, state: 'draining' };
  }

  /** Ends an operator's drain: the cell takes work again. */
  async undrain(actor: Actor, id: string): Promise<{ id: string; state: string }> {
    this.access.requirePlatformAdmin(actor, 'undraining a cell');
    if (!(await endCellDrain(this.redis.redis, this.redis.keys, id))) throw notFound('drained cell', id, 'only a cell drained through the API can be undrained');
    await this.events.record(actor, 'cell-undrained', { type: 'cell', id, name: id });
    return { id, state: 'live' };
  }
}
