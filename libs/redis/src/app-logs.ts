import type { Redis } from 'ioredis';
import { appLogFields, logEntryOf, type AppLogSettings, type LogEntry, type LogStream, type RedisKeys } from '@paas/contracts';
import { AppLogRateLimiter, rateLimitMarker } from './app-log-limiter';

/** One line for an app's log. */
export interface AppLogLine {
  source: string;
  stream: LogStream;
  text: string;
  /** Writer's clock, ms; now by default. */
  at?: number;
}

export interface AppLogWriterOptions {
  settings: Pick<AppLogSettings, 'maxLines' | 'ttlSeconds'>;
  /** Per-app token bucket for `write(..., { limited: true })` lines; none: nothing is limited. */
  rateLimit?: { ratePerSecond: number; burst: number; windowMs?: number };
  /** Source tag of the marker lines (rate limit, overflow), e.g. `CELL/0`. */
  markerSource: string;
  /** Who drops lines, as the marker says it (e.g. `cell cell-1`). */
  markerWhere: string;
  /** How soon a written line is sent (default 100 ms). */
  flushIntervalMs?: number;
  /** Lines per transaction (default 500). */
  maxBatch?: number;
  /** Lines waiting for Redis at most; more are dropped and counted (default 20000). */
  maxPending?: number;
  /** After a failed write, how long until the next try (default 1 s). */
  retryMs?: number;
  clock?: () => number;
  /** A write that failed (its lines are kept and tried again) or a marker; the caller logs it. */
  onError?: (error: Error) => void;
}

export type WriteOutcome = 'queued' | 'rate-limited' | 'overflow';

type Item = { kind: 'line'; appId: string; fields: string[] } | { kind: 'checkpoint'; key: string; field: string; value: string | null };

/**
 * Writes app log lines to their apps' streams (`XADD <prefix>:app-logs:<appId> MAXLEN ~ N`), in
 * batches: `write` is synchronous and never waits for Redis; every `flushIntervalMs` (or at once
 * when a batch is full) the pending lines go in one MULTI/EXEC, each stream's expiry refreshed.
 * Lines of one app keep their order. A failed write keeps its lines and is tried again; while
 * Redis is away at most `maxPending` lines wait, the rest are counted and a marker line says so.
 *
 * `checkpoint` queues an HSET (HDEL for null) that runs in the same transaction as the lines
 * written before it: a log shipper stores how far it read with the lines it read, atomically.
 *
 * Call `close` once at the end; `write` after close is ignored.
 */
export class AppLogWriter {
  private pending: Item[] = [];
  private pendingLines = 0;
  private readonly limiter?: AppLogRateLimiter;
  private readonly overflow = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private chain: Promise<boolean> = Promise.resolve(true);
  private writing = false;
  private closed = false;
  private readonly clock: () => number;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private readonly retryMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: AppLogWriterOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.maxBatch = options.maxBatch ?? 500;
    this.maxPending = options.maxPending ?? 20_000;
    this.retryMs = options.retryMs ?? 1_000;
    if (options.rateLimit) this.limiter = new AppLogRateLimiter({ ...options.rateLimit, clock: this.clock });
  }

  /** Lines waiting to be written. */
  get pendingCount(): number {
    return this.pendingLines;
  }

  /**
   * Queues one line; `limited` lines count against the app's rate limit (app output, access
   * lines), the others (lifecycle, staging, API) never do. Says whether the line was queued.
   */
  write(appId: string, line: AppLogLine, options: { limited?: boolean } = {}): WriteOutcome {
    if (this.closed) return 'overflow';
    if (options.limited && this.limiter && !this.limiter.take(appId)) {
      this.schedule();
      return 'rate-limited';
    }
    if (this.pendingLines >= this.maxPending) {
      this.overflow.set(appId, (this.overflow.get(appId) ?? 0) + 1);
      return 'overflow';
    }
    this.push(appId, line);
    return 'queued';
  }

  /** Queues `HSET key field value` (or HDEL for null) after the lines written so far, in their transaction. */
  checkpoint(key: string, field: string, value: string | null): void {
    if (this.closed) return;
    this.pending.push({ kind: 'checkpoint', key, field, value });
    this.schedule();
  }

  /** Writes everything queued so far; true when it all reached Redis. One transaction at a time. */
  flush(): Promise<boolean> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.chain = this.chain.then(() => this.drain());
    return this.chain;
  }

  /**
   * Reports what is left of the drop counts, writes everything (waiting at most `timeoutMs` for
   * Redis), and stops. Does not close the connection.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    this.markers(true);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private push(appId: string, line: AppLogLine): void {
    this.pending.push({ kind: 'line', appId, fields: appLogFields({ ...line, at: line.at ?? this.clock() }) });
    this.pendingLines += 1;
    if (this.pendingLines >= this.maxBatch && !this.writing) void this.flush();
    else this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  /** Marker lines for the drops whose window is over (all with `all`); they bypass every limit. */
  private markers(all: boolean): void {
    const limit = this.options.rateLimit;
    if (this.limiter && limit) {
      for (const dropped of this.limiter.due(all)) {
        this.pushMarker(dropped.appId, rateLimitMarker(dropped, limit, this.options.markerWhere));
      }
    }
    for (const [appId, count] of this.overflow) {
      this.pushMarker(appId, `app log buffer full: ${count} line${count === 1 ? '' : 's'} dropped while the log store (Redis) did not keep up (${this.options.markerWhere})`);
    }
    this.overflow.clear();
  }

  private pushMarker(appId: string, text: string): void {
    this.pending.push({ kind: 'line', appId, fields: appLogFields({ source: this.options.markerSource, stream: 'ERR', text, at: this.clock() }) });
    this.pendingLines += 1;
  }

  /** Sends batches until nothing is pending; on a failure puts the batch back and retries later. */
  private async drain(): Promise<boolean> {
    this.markers(false);
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.takeBatch();
        try {
          await this.send(batch);
        } catch (error) {
          // Back in front, in order; tried again after retryMs.
          this.pending = [...batch, ...this.pending];
          this.pendingLines += batch.filter((i) => i.kind === 'line').length;
          this.options.onError?.(error as Error);
          if (!this.closed && !this.timer) {
            this.timer = setTimeout(() => {
              this.timer = undefined;
              void this.flush();
            }, this.retryMs);
            this.timer.unref();
          }
          return false;
        }
      }
      // Keep the limiter's windows moving while lines are being dropped.
      if (this.limiter && this.limiter.size > 0) this.schedule();
      return true;
    } finally {
      this.writing = false;
    }
  }

  private takeBatch(): Item[] {
    let lines = 0;
    let end = 0;
    while (end < this.pending.length && lines < this.maxBatch) {
      if (this.pending[end]!.kind === 'line') lines += 1;
      end += 1;
    }
    // Checkpoints right after the last line belong with it.
    while (end < this.pending.length && this.pending[end]!.kind === 'checkpoint') end += 1;
    const batch = this.pending.slice(0, end);
    this.pending = this.pending.slice(end);
    this.pendingLines -= lines;
    return batch;
  }

  private async send(batch: Item[]): Promise<void> {
    const multi = this.redis.multi();
    const apps = new Set<string>();
    const { maxLines, ttlSeconds } = this.options.settings;
    for (const item of batch) {
      if (item.kind === 'line') {
        multi.xadd(this.keys.appLogs(item.appId), 'MAXLEN', '~', maxLines, '*', ...item.fields);
        apps.add(item.appId);
      } else if (item.value === null) {
        multi.hdel(item.key, item.field);
      } else {
        multi.hset(item.key, item.field, item.value);
      }
    }
    if (ttlSeconds > 0) for (const appId of apps) multi.expire(this.keys.appLogs(appId), ttlSeconds);
    const results = await multi.exec();
    if (!results) throw new Error('the app log transaction was aborted');
    const failed = results.find(([error]) => error);
    // A command that failed inside the transaction (e.g. a key of another type) is not retried.
    if (failed?.[0]) this.options.onError?.(failed[0]);
  }
}

/** The last `limit` lines of an app's log, oldest first. */
export async function readRecentAppLogs(redis: Redis, keys: RedisKeys, appId: string, limit: number): Promise<LogEntry[]> {
  const raw = await redis.xrevrange(keys.appLogs(appId), '+', '-', 'COUNT', limit);
  return toEntries(raw.reverse()).entries;
}

/** Up to `limit` lines after the stream id `afterId` (exclusive), oldest first, and the id to read on from. */
export async function readAppLogsAfter(redis: Redis, keys: RedisKeys, appId: string, afterId: string, limit: number): Promise<{ entries: LogEntry[]; lastId: string }> {
  const raw = await redis.xrange(keys.appLogs(appId), `(${afterId}`, '+', 'COUNT', limit);
  return toEntries(raw, afterId);
}

/**
 * Blocks up to `blockMs` for lines after `afterId` (XREAD BLOCK): needs a connection of its own,
 * as a blocked connection serves nothing else. Empty when none came.
 */
export async function waitForAppLogs(
  conn: Redis,
  keys: RedisKeys,
  appId: string,
  afterId: string,
  options: { blockMs: number; count: number },
): Promise<{ entries: LogEntry[]; lastId: string }> {
  const reply = await conn.xread('COUNT', options.count, 'BLOCK', options.blockMs, 'STREAMS', keys.appLogs(appId), afterId);
  const raw = reply?.[0]?.[1] ?? [];
  return toEntries(raw, afterId);
}

/** The id of an app's newest line; `0-0` when it has none (every later line comes after it). */
export async function lastAppLogId(redis: Redis, keys: RedisKeys, appId: string): Promise<string> {
  const raw = await redis.xrevrange(keys.appLogs(appId), '+', '-', 'COUNT', 1);
  return raw[0]?.[0] ?? '0-0';
}

/** Deletes an app's log (the app is gone). */
export async function deleteAppLogs(redis: Redis, keys: RedisKeys, appId: string): Promise<void> {
  await redis.del(keys.appLogs(appId));
}

function toEntries(raw: Array<[string, string[]]>, afterId = '0-0'): { entries: LogEntry[]; lastId: string } {
  const entries: LogEntry[] = [];
  let lastId = afterId;
  for (const [id, fields] of raw) {
    lastId = id;
    const entry = logEntryOf(id, fields);
    if (entry) entries.push(entry);
  }
  return { entries, lastId };
}
