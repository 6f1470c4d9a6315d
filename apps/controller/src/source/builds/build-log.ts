/** A build keeps the last this many bytes of its log (UTF-8, one newline per line); older lines are dropped. */
export const BUILD_LOG_MAX_BYTES = 1024 * 1024;
/** Longer lines are cut to this many characters. */
export const BUILD_LOG_MAX_LINE_CHARS = 8192;

export interface BuildLogLineRow {
  seq: number;
  text: string;
}

/** Where a build's log lines go: BuildLogsRepository, or an array in tests. */
export interface BuildLogSink {
  append(buildId: string, lines: BuildLogLineRow[]): Promise<void>;
  /** Deletes the lines before `seq` and records that `dropped` lines are gone in all. */
  dropBefore(buildId: string, seq: number, dropped: number): Promise<void>;
  /** The push ended: nothing more comes. */
  close(buildId: string): Promise<void>;
}

export interface BuildLogOptions {
  maxBytes?: number;
  flushIntervalMs?: number;
  /** A batch this large is written at once, without waiting for the interval. */
  maxBatch?: number;
  /** A write that failed: the push goes on (its log misses lines); the caller logs it. */
  onError?: (error: Error) => void;
}

/**
 * Keeps the lines said during one push, in order, readable while the push runs: `append` is
 * synchronous (it never slows the output down); batches go to the sink every flush interval,
 * one write at a time. Only the last `maxBytes` are kept: when more were said, the oldest lines
 * are deleted (or never written) and counted. `close` writes what is left and marks the log
 * complete; call it once, after the last `append`.
 */
export class BuildLogWriter {
  private seq = 0;
  private pending: BuildLogLineRow[] = [];
  /** Sizes of the kept lines, oldest first, with their seq. */
  private readonly kept: Array<{ seq: number; bytes: number }> = [];
  private keptStart = 0;
  private keptBytes = 0;
  private dropped = 0;
  private droppedWritten = 0;
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private readonly maxBytes: number;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;

  constructor(
    readonly buildId: string,
    private readonly sink: BuildLogSink,
    private readonly options: BuildLogOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? BUILD_LOG_MAX_BYTES;
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.maxBatch = options.maxBatch ?? 500;
  }

  append(line: string): void {
    const text = line.length > BUILD_LOG_MAX_LINE_CHARS ? `${line.slice(0, BUILD_LOG_MAX_LINE_CHARS)}... [line cut]` : line;
    const seq = ++this.seq;
    const bytes = Buffer.byteLength(text) + 1;
    this.pending.push({ seq, text });
    this.kept.push({ seq, bytes });
    this.keptBytes += bytes;
    while (this.keptBytes > this.maxBytes && this.kept.length - this.keptStart > 1) {
      this.keptBytes -= this.kept[this.keptStart].bytes;
      this.keptStart += 1;
      this.dropped += 1;
    }
    if (this.keptStart > 1024) {
      this.kept.splice(0, this.keptStart);
      this.keptStart = 0;
    }
    if (this.pending.length >= this.maxBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushIntervalMs);
  }

  /** Writes what was appended; resolves when it (and every earlier write) is done. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    const firstKept = this.kept[this.keptStart]?.seq ?? this.seq + 1;
    const dropped = this.dropped;
    this.chain = this.chain.then(async () => {
      try {
        const lines = batch.filter((l) => l.seq >= firstKept);
        if (lines.length) await this.sink.append(this.buildId, lines);
        if (dropped > this.droppedWritten) {
          await this.sink.dropBefore(this.buildId, firstKept, dropped);
          this.droppedWritten = dropped;
        }
      } catch (error) {
        this.options.onError?.(error as Error);
      }
    });
    return this.chain;
  }

  /** Writes the rest and marks the log complete. */
  async close(): Promise<void> {
    await this.flush();
    await this.sink.close(this.buildId).catch((error: Error) => this.options.onError?.(error));
  }
}
