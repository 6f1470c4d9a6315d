import { open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LOG_LINE_CUT_MARK, LOG_LINE_MAX_CHARS, logSource, type LogStream, type RedisKeys } from '@paas/contracts';
import { forgetLogOffsetsExcept, logOffsetField, readLogOffsets, type AppLogWriter } from '@paas/redis';

/** An instance whose output the cell ships to its app's log. */
export interface ShippedInstance {
  instanceId: string;
  appId: string;
  processType: string;
  index: number;
}

export interface LogShipperOptions {
  /** Where the instances' output files are: `<instanceId>.log` (stdout) and `<instanceId>.err.log` (stderr). */
  logDir: string;
  cellId: string;
  /** How often the files are checked for new output (default 100 ms). */
  pollMs?: number;
  /** Bytes read per file and poll at most (default 256 KiB): a flood is shipped over several polls. */
  maxReadBytes?: number;
  /** While the writer has this many lines waiting (Redis slow or away), no more is read (default 5000): the files are the buffer. */
  maxPendingLines?: number;
}

/** The stdout and stderr files of an instance, as the cell passes them to the runtime. */
export function outputFiles(logDir: string, instanceId: string): { out: string; err: string } {
  return { out: join(logDir, `${instanceId}.log`), err: join(logDir, `${instanceId}.err.log`) };
}

/**
 * Splits a byte stream into lines: `\n` ends a line (a `\r` before it is dropped later), a line
 * longer than maxBytes is cut there (marked) and the rest of it skipped. `consumed` is how many
 * bytes the lines returned so far account for: where a reader resumes without repeating them.
 */
export class LineSplitter {
  private partial: Buffer = Buffer.alloc(0);
  private skipping = false;
  /** Bytes of the input that returned lines (or skipped parts of a cut line) cover. */
  consumed = 0;

  constructor(private readonly maxBytes = LOG_LINE_MAX_CHARS) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    // The partial line's bytes were never counted as consumed: all of `data` is new to `consumed`.
    const data = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const newline = data.indexOf(0x0a, start);
      if (newline < 0) break;
      if (this.skipping) this.skipping = false;
      else lines.push(data.toString('utf8', start, newline));
      start = newline + 1;
    }
    this.consumed += start;
    let rest = data.subarray(start);
    if (this.skipping) {
      // More of a cut line: consumed, never shipped.
      this.consumed += rest.length;
      rest = Buffer.alloc(0);
    } else if (rest.length > this.maxBytes) {
      lines.push(`${rest.toString('utf8', 0, this.maxBytes)}${LOG_LINE_CUT_MARK}`);
      this.consumed += rest.length;
      rest = Buffer.alloc(0);
      this.skipping = true;
    }
    this.partial = Buffer.from(rest);
    return lines;
  }

  /** The last line when the input ends without a newline (the instance is gone). */
  end(): string[] {
    const rest = this.partial;
    this.partial = Buffer.alloc(0);
    if (rest.length === 0 || this.skipping) return [];
    this.consumed += rest.length;
    return [rest.toString('utf8')];
  }
}

interface Tail {
  path: string;
  stream: LogStream;
  /** Field of the cell's offsets hash: `${instanceId}:out|err`. */
  field: string;
  /** Where the next read starts. */
  position: number;
  /** `position` when the splitter was created: consumed bytes count from there. */
  base: number;
  splitter: LineSplitter;
  handle?: FileHandle;
  /** The last checkpoint queued. */
  saved: number;
}

interface Followed {
  instance: ShippedInstance;
  tails: Tail[];
}

/**
 * Ships each instance's output (its stdout and stderr files) to its app's log stream, tagged
 * `APP/PROC/<TYPE>/<index>` OUT or ERR, plus the cell's lifecycle lines (`CELL/<index>`). One poll
 * loop for all instances reads what was appended since the last poll and hands the lines to the
 * AppLogWriter (rate-limited per app there); with them it queues a checkpoint of how far each file
 * was read, written in the same Redis transaction, so a restarted agent that re-adopts the
 * container resumes exactly after the last line shipped: nothing repeated, nothing skipped.
 * Memory stays bounded: at most maxReadBytes per file and poll, and nothing is read while the
 * writer is behind. `follow`/`finish` are safe to call twice; `close` once at the end.
 */
export class LogShipper {
  private readonly followed = new Map<string, Followed>();
  private timer?: NodeJS.Timeout;
  private cycle: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly pollMs: number;
  private readonly maxReadBytes: number;
  private readonly maxPendingLines: number;

  constructor(
    private readonly writer: AppLogWriter,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
    private readonly options: LogShipperOptions,
  ) {
    this.pollMs = options.pollMs ?? 100;
    this.maxReadBytes = options.maxReadBytes ?? 256 * 1024;
    this.maxPendingLines = options.maxPendingLines ?? 5_000;
  }

  private get offsetsKey(): string {
    return this.keys.logOffsets(this.options.cellId);
  }

  /** Starts the poll loop. */
  start(): void {
    this.schedule();
  }

  /** A lifecycle line of an instance on this cell (`CELL/<index>`); never rate-limited. */
  lifecycle(instance: Pick<ShippedInstance, 'appId' | 'index'>, text: string, stream: LogStream = 'OUT'): void {
    this.writer.write(instance.appId, { source: logSource.cell(instance.index), stream, text });
  }

  /**
   * Ships an instance's output from now on: from the start of its files for a new instance, from
   * its checkpoints when `resume` (a container re-adopted after an agent restart).
   */
  async follow(instance: ShippedInstance, options: { resume: boolean }): Promise<void> {
    if (this.followed.has(instance.instanceId) || this.closed) return;
    const files = outputFiles(this.options.logDir, instance.instanceId);
    const saved = options.resume ? await readLogOffsets(this.redis, this.keys, this.options.cellId, instance.instanceId) : { out: 0, err: 0 };
    const tail = (path: string, stream: LogStream, field: string, position: number): Tail => ({
      path,
      stream,
      field,
      position,
      base: position,
      splitter: new LineSplitter(),
      saved: position,
    });
    this.followed.set(instance.instanceId, {
      instance,
      tails: [
        tail(files.out, 'OUT', logOffsetField(instance.instanceId, 'out'), saved.out),
        tail(files.err, 'ERR', logOffsetField(instance.instanceId, 'err'), saved.err),
      ],
    });
  }

  /** Instance ids followed now. */
  get instanceIds(): string[] {
    return [...this.followed.keys()];
  }

  /**
   * The instance is gone: ships the rest of its output (a last line without newline too), stops
   * following it, forgets its checkpoints and deletes its files; resolves once written (bounded).
   */
  async finish(instanceId: string, last?: { text: string; stream?: LogStream }): Promise<void> {
    const entry = this.followed.get(instanceId);
    if (!entry) return;
    this.followed.delete(instanceId);
    await this.cycle; // a poll in progress may be reading it
    for (const tail of entry.tails) {
      // Bounded: at most 64 reads (16 MiB with the default) of what is left.
      for (let i = 0; i < 64; i++) if (!(await this.read(entry.instance, tail).catch(() => false))) break;
      for (const line of tail.splitter.end()) this.ship(entry.instance, tail, line);
      await tail.handle?.close().catch(() => undefined);
      tail.handle = undefined;
      this.writer.checkpoint(this.offsetsKey, tail.field, null);
    }
    if (last) this.lifecycle(entry.instance, last.text, last.stream);
    await this.writer.flush();
    const files = outputFiles(this.options.logDir, instanceId);
    await rm(files.out, { force: true }).catch(() => undefined);
    await rm(files.err, { force: true }).catch(() => undefined);
  }

  /**
   * After re-adoption: forgets the checkpoints and files of instances this cell no longer runs
   * (they stopped while the agent was down). Call once, after the `follow`s of recover.
   */
  async forgetOthers(): Promise<void> {
    const known = new Set(this.followed.keys());
    await forgetLogOffsetsExcept(this.redis, this.keys, this.options.cellId, known);
    const names = await readdir(this.options.logDir).catch(() => [] as string[]);
    for (const name of names) {
      const id = name.replace(/(\.err)?\.log$/, '');
      if (id !== name && !known.has(id)) await rm(join(this.options.logDir, name), { force: true }).catch(() => undefined);
    }
  }

  /** Stops following (checkpoints stay: the containers may be re-adopted) and writes what was read. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.cycle;
    for (const entry of this.followed.values()) for (const tail of entry.tails) await tail.handle?.close().catch(() => undefined);
    this.followed.clear();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.cycle = this.poll()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'log-shipping-failed'))
        .finally(() => this.schedule());
    }, this.pollMs);
    this.timer.unref();
  }

  /** One pass over every followed file. */
  private async poll(): Promise<void> {
    for (const entry of [...this.followed.values()]) {
      for (const tail of entry.tails) {
        if (this.writer.pendingCount >= this.maxPendingLines) return; // behind: the files wait
        if (!this.followed.has(entry.instance.instanceId)) break;
        await this.read(entry.instance, tail);
      }
    }
  }

  /** Reads (up to maxReadBytes) what was appended to one file and ships its lines; true when it read something. */
  private async read(instance: ShippedInstance, tail: Tail): Promise<boolean> {
    if (!tail.handle) {
      try {
        tail.handle = await open(tail.path, 'r');
      } catch {
        return false; // not created yet (the container is starting) or already removed
      }
    }
    const { size } = await tail.handle.stat();
    if (size < tail.position) {
      // Truncated by someone: start again from its beginning.
      tail.position = 0;
      tail.base = 0;
      tail.splitter = new LineSplitter();
    }
    if (size === tail.position) return false;
    const length = Math.min(size - tail.position, this.maxReadBytes);
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await tail.handle.read(buffer, 0, length, tail.position);
    if (bytesRead === 0) return false;
    tail.position += bytesRead;
    for (const line of tail.splitter.push(buffer.subarray(0, bytesRead))) this.ship(instance, tail, line);
    const checkpoint = tail.base + tail.splitter.consumed;
    if (checkpoint !== tail.saved) {
      tail.saved = checkpoint;
      this.writer.checkpoint(this.offsetsKey, tail.field, String(checkpoint));
    }
    return true;
  }

  private ship(instance: ShippedInstance, tail: Tail, text: string): void {
    this.writer.write(instance.appId, { source: logSource.app(instance.processType, instance.index), stream: tail.stream, text }, { limited: true });
  }
}

/** The last `maxBytes` of a file as text (empty when it does not exist): bounded, however much an app printed. */
export async function readFileTail(path: string, maxBytes = 64 * 1024): Promise<string> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8', 0, bytesRead);
  } catch {
    return '';
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
