import { Injectable } from '@nestjs/common';
import type { Event, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';

export interface EventFilter {
  /** undefined: every event, including those without a space (platform admins). */
  visibleSpaceIds?: string[];
  types?: string[];
  targetIds?: string[];
  spaceIds?: string[];
}

/** An audit log entry as written (see EventsService.record). */
export interface NewEvent {
  type: string;
  actorId: string | null;
  actorName: string;
  targetType: string;
  targetId: string;
  targetName: string;
  spaceId: string | null;
  data: Prisma.InputJsonValue;
}

/** Reads and appends to the audit log (EventsService decides what is written). */
@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Appends one event; in `tx`, it is part of that change's transaction. */
  async append(event: NewEvent, tx: Prisma.TransactionClient = this.prisma): Promise<void> {
    await tx.event.create({ data: event });
  }

  private where(filter: EventFilter): Prisma.EventWhereInput {
    const and: Prisma.EventWhereInput[] = [];
    if (filter.visibleSpaceIds) and.push({ spaceId: { in: filter.visibleSpaceIds } });
    if (filter.spaceIds) and.push({ spaceId: { in: filter.spaceIds } });
    if (filter.types) and.push({ type: { in: filter.types } });
    if (filter.targetIds) and.push({ targetId: { in: filter.targetIds } });
    return { AND: and };
  }

  /** Newest first; ties (same instant) broken by id so pages never overlap. */
  async list(filter: EventFilter, skip: number, take: number): Promise<{ events: Event[]; total: number }> {
    const where = this.where(filter);
    const [events, total] = await this.prisma.$transaction([
      this.prisma.event.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip, take }),
      this.prisma.event.count({ where }),
    ]);
    return { events, total };
  }

  find(id: string): Promise<Event | null> {
    return this.prisma.event.findUnique({ where: { id } });
  }
}
