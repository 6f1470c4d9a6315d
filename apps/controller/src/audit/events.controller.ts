import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import type { Event } from '../generated/prisma/client';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { AccessService } from '../auth/access.service';
import { notFound } from '../platform/common/domain.exception';
import { paginated, parsePage, type Paginated } from '../platform/common/pagination';
import { csvParam, isUuid, uuidListParam } from '../platform/common/query-params';
import { AuditRepository } from './audit.repository';

export interface EventView {
  id: string;
  type: string;
  actor: { id: string | null; name: string };
  target: { type: string; id: string; name: string };
  space_id: string | null;
  data: unknown;
  created_at: string;
}

function eventView(e: Event): EventView {
  return {
    id: e.id,
    type: e.type,
    actor: { id: e.actorId, name: e.actorName },
    target: { type: e.targetType, id: e.targetId, name: e.targetName },
    space_id: e.spaceId,
    data: e.data,
    created_at: e.createdAt.toISOString(),
  };
}

/**
 * The audit log, newest first, filterable by `types`, `target_id(s)` and `space_id(s)`. A caller
 * sees the events of the spaces it holds a role in; platform admins see all, including events
 * without a space (users, orgs, domains).
 */
@Controller('v1/events')
@UseGuards(TokenGuard)
export class EventsController {
  constructor(
    private readonly events: AuditRepository,
    private readonly access: AccessService,
  ) {}

  @Get()
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Paginated<EventView>> {
    const page = parsePage(query);
    const filter = {
      visibleSpaceIds: await this.access.visibleSpaceIds(actor),
      types: csvParam(query, 'types'),
      targetIds: csvParam(query, 'target_ids') ?? csvParam(query, 'target_id'),
      spaceIds: uuidListParam(query, 'space_ids') ?? uuidListParam(query, 'space_id'),
    };
    const { events, total } = await this.events.list(filter, page.skip, page.take);
    return paginated(events.map(eventView), total, page, '/v1/events', query);
  }

  @Get(':id')
  async get(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<EventView> {
    const event = isUuid(id) ? await this.events.find(id) : null;
    const visible = await this.access.visibleSpaceIds(actor);
    if (!event || (visible && (!event.spaceId || !visible.includes(event.spaceId)))) {
      throw notFound('event', id, 'list the events you can see with GET /v1/events');
    }
    return eventView(event);
  }
}
