import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { logSource, type LogEntry, type LogStream } from '@paas/contracts';
import { AppLogWriter, deleteAppLogs, lastAppLogId, readAppLogsAfter, readRecentAppLogs, waitForAppLogs } from '@paas/redis';
import type { Redis } from 'ioredis';
import { LOGGER, type Logger } from '../config/config.module';
import { RedisService } from '../redis/redis.module';
import { auditLogLine } from './audit-log-line.util';

/**
 * The controller's side of the app logs (one Redis stream per app): it writes the lines only it
 * knows (staging output `STG/0`, the release command `APP/TASK/RELEASE/0`, API changes `API/0`)
 * and reads the streams for the logs API. Writes never wait for Redis and never fail the caller:
 * they are batched (AppLogWriter) and a failed write is logged and retried. Reads fail fast (503
 * redis-unavailable) while Redis is out of reach, instead of waiting for it.
 */
@Injectable()
export class AppLogsService implements OnModuleDestroy {
  private readonly writer: AppLogWriter;
  /** The writer's own connection: closed after its last flush, whatever order modules are destroyed in. */
  private readonly connection: Redis;

  constructor(
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.connection = redis.duplicate('controller-app-logs');
    this.writer = new AppLogWriter(this.connection, redis.keys, {
      settings: redis.config.appLogs,
      markerSource: logSource.api,
      markerWhere: 'the controller',
      flushIntervalMs: 50,
      onError: (err) => this.logger.warn({ err }, 'app-log-write-failed'),
    });
  }

  /** Queues one line for the app's log. */
  append(appId: string, source: string, stream: LogStream, text: string): void {
    this.writer.write(appId, { source, stream, text });
  }

  /** The `API/0` line of an audit event about an app. */
  appendAudit(appId: string, appName: string, type: string, actorName: string, data: Record<string, unknown>): void {
    const line = auditLogLine(type, actorName, appName, data);
    this.append(appId, logSource.api, line.stream, line.text);
  }

  /** Resolves once what was appended so far is in Redis (tests, shutdown). */
  flush(): Promise<boolean> {
    return this.writer.flush();
  }

  /** The app is deleted: its log goes (after the lines still queued, so none of them brings it back). */
  async remove(appId: string): Promise<void> {
    await this.writer.flush();
    await deleteAppLogs(this.connection, this.redis.keys, appId);
  }

  recent(appId: string, limit: number): Promise<LogEntry[]> {
    return readRecentAppLogs(this.redis.reads, this.redis.keys, appId, limit);
  }

  after(appId: string, afterId: string, limit: number): Promise<{ entries: LogEntry[]; lastId: string }> {
    return readAppLogsAfter(this.redis.reads, this.redis.keys, appId, afterId, limit);
  }

  lastId(appId: string): Promise<string> {
    return lastAppLogId(this.redis.reads, this.redis.keys, appId);
  }

  /** A connection of its own for one blocking reader (a stream client); the caller disconnects it. */
  blockingConnection(name: string): Redis {
    return this.redis.duplicate(name);
  }

  waitFor(conn: Redis, appId: string, afterId: string, blockMs: number): Promise<{ entries: LogEntry[]; lastId: string }> {
    return waitForAppLogs(conn, this.redis.keys, appId, afterId, { blockMs, count: 500 });
  }

  async onModuleDestroy(): Promise<void> {
    await this.writer.close();
    this.connection.disconnect();
  }
}
