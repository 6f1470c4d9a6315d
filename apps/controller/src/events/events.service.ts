import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../database/prisma.service';
import type { Actor } from '../auth/actor';

export interface EventTarget {
  type: string;
  id: string;
  name: string;
  spaceId?: string | null;
}

/** The audit log: who changed what and when. Event types are kebab-case (`app-scaled`). */
@Injectable()
export class EventsService {
  constructor(private readonly prisma: PrismaService) {}

  /** Records an event; `tx` makes it part of the change's own transaction. */
  async record(
    actor: Actor | { userId: null; name: string },
    type: string,
    target: EventTarget,
    data: Record<string, unknown> = {},
    tx: Prisma.TransactionClient = this.prisma,
  ): Promise<void> {
    await tx.event.create({
      data: {
        type,
        actorId: actor.userId,
        actorName: actor.name,
        targetType: target.type,
        targetId: target.id,
        targetName: target.name,
        spaceId: target.spaceId ?? null,
        data: data as Prisma.InputJsonValue,
      },
    });
  }
}

/** The platform itself, as the actor of events nobody asked for (an instance crashed). */
export const SYSTEM_ACTOR = { userId: null, name: 'system' } as const;
