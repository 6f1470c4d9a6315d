import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import type { Actor } from '../auth/actor';
import { AuditRepository } from './audit.repository';
import { AppLogsService } from '../platform/app-logs/app-logs.service';

export interface EventTarget {
  type: string;
  id: string;
  name: string;
  spaceId?: string | null;
}

/** How long deleting an app waits for its log stream to be deleted (Redis away: the stream expires on its own). */
const LOG_REMOVAL_WAIT_MS = 5_000;

/**
 * The audit log: who changed what and when. Event types are kebab-case (`app-scaled`). An event
 * about an app also becomes an `API/0` line of the app's log; `app-deleted` deletes that log.
 */
@Injectable()
export class EventsService {
  constructor(
    private readonly audit: AuditRepository,
    private readonly appLogs: AppLogsService,
  ) {}

  /** Records an event; `tx` makes it part of the change's own transaction. */
  async record(
    actor: Actor | { userId: null; name: string },
    type: string,
    target: EventTarget,
    data: Record<string, unknown> = {},
    tx?: Prisma.TransactionClient,
  ): Promise<void> {
    await this.audit.append(
      {
        type,
        actorId: actor.userId,
        actorName: actor.name,
        targetType: target.type,
        targetId: target.id,
        targetName: target.name,
        spaceId: target.spaceId ?? null,
        data: data as Prisma.InputJsonValue,
      },
      tx,
    );
    if (target.type !== 'app') return;
    if (type === 'app-deleted') {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, LOG_REMOVAL_WAIT_MS)));
      await Promise.race([this.appLogs.remove(target.id).catch(() => undefined), waited]);
      clearTimeout(timer);
    } else {
      // Within a transaction the line is written at once, before the commit (a rolled-back change may leave its line).
      this.appLogs.appendAudit(target.id, target.name, type, actor.name, data);
    }
  }
}

/** The platform itself, as the actor of events nobody asked for (an instance crashed). */
export const SYSTEM_ACTOR = { userId: null, name: 'system' } as const;
