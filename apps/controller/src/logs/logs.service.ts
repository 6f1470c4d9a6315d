import { once } from 'node:events';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Response } from 'express';
import type { LogEntriesResponse, LogEntry } from '@paas/contracts';
import type { Actor } from '../auth/actor';
import { AppsService } from '../apps/apps.service';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { AppLogsService } from '../platform/app-logs/app-logs.service';
import { parseRecentQuery, parseStreamStart, sseComment, sseLogEvent } from './log-query.util';

/** A comment line this often keeps an idle stream (and any proxy on the way) open; the app and access are checked again then. */
export const LOG_STREAM_HEARTBEAT_MS = 15_000;
/** How long one XREAD blocks before it is issued again. */
const BLOCK_MS = 10_000;

/**
 * The logs API: the recent lines of an app, and a live stream of server-sent events that resumes
 * after a given entry. Each stream client has a Redis connection of its own (XREAD BLOCK), closed
 * when the client goes, when the app is deleted or no longer visible to it, or at shutdown.
 */
@Injectable()
export class LogsService implements OnModuleDestroy {
  private readonly streams = new Set<() => void>();

  constructor(
    private readonly apps: AppsService,
    private readonly logs: AppLogsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Stream clients connected now. */
  get streamCount(): number {
    return this.streams.size;
  }

  async recent(actor: Actor, appIdOrName: string, query: Record<string, unknown>): Promise<LogEntriesResponse> {
    const app = await this.apps.resolve(actor, appIdOrName, 'read');
    const { limit, since } = parseRecentQuery(query);
    const resources = since ? (await this.logs.after(app.id, since, limit)).entries : await this.logs.recent(app.id, limit);
    return { resources };
  }

  /**
   * Answers with text/event-stream and keeps writing: the last `recent` lines (when not resuming),
   * then every new line as it comes. Checks (404, 403, 400, 503 while Redis is out of reach) happen
   * before the first byte, so they answer as JSON errors. Once started, a stream waits out a Redis
   * outage and goes on. Returns once the stream started.
   */
  async stream(actor: Actor, appIdOrName: string, lastEventId: string | string[] | undefined, query: Record<string, unknown>, res: Response): Promise<void> {
    const app = await this.apps.resolve(actor, appIdOrName, 'read');
    const start = parseStreamStart(lastEventId, query);
    // Read before the first byte, through the fail-fast connection: Redis out of reach answers 503
    // redis-unavailable as JSON instead of a stream that never starts.
    let cursor: string;
    let recent: LogEntry[] = [];
    if (start.kind === 'after') {
      cursor = start.id;
    } else {
      recent = start.recent > 0 ? await this.logs.recent(app.id, start.recent) : [];
      cursor = recent.at(-1)?.id ?? (await this.logs.lastId(app.id));
    }
    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    res.socket?.setNoDelay(true);

    const log = this.logger.child({ app: app.name, logStream: true });
    const conn = this.logs.blockingConnection(`app-log-stream-${app.id}`);
    const abort = new AbortController();
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      abort.abort();
      clearInterval(heartbeat);
      conn.disconnect();
      this.streams.delete(close);
      if (!res.writableEnded) res.end();
    };
    this.streams.add(close);
    res.on('close', close);
    res.on('error', close);
    const heartbeat = setInterval(() => {
      if (!open) return;
      res.write(sseComment('heartbeat'));
      this.apps.resolve(actor, app.id, 'read').catch(() => close());
    }, LOG_STREAM_HEARTBEAT_MS);

    const pump = async () => {
      for (const entry of recent) res.write(sseLogEvent(entry));
      // Says where the stream stands: every line after this id comes next.
      res.write(sseComment(`streaming the log of ${app.name} after ${cursor}`));
      while (open) {
        const { entries, lastId } = await this.logs.waitFor(conn, app.id, cursor, BLOCK_MS);
        if (!open) return;
        let flowing = true;
        for (const entry of entries) flowing = res.write(sseLogEvent(entry));
        cursor = lastId;
        // A slow client: wait until it took what was written, so memory stays bounded.
        if (!flowing) await once(res, 'drain', { signal: abort.signal });
      }
    };
    pump()
      .catch((error: unknown) => {
        if (open) log.warn({ err: error }, 'app-log-stream-failed');
      })
      .finally(close);
  }

  onModuleDestroy(): void {
    for (const close of [...this.streams]) close();
  }
}
