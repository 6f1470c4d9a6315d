import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILD_LOG_MAX_LINE_CHARS, BuildLogWriter, type BuildLogLineRow, type BuildLogSink } from './build-log';

/** A sink that keeps what a database table would. */
class MemorySink implements BuildLogSink {
  rows: BuildLogLineRow[] = [];
  dropped = 0;
  closed = false;
  writes = 0;
  failNext = false;

  async append(_buildId: string, lines: BuildLogLineRow[]): Promise<void> {
    this.writes += 1;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('database down');
    }
    this.rows.push(...lines);
  }

  async dropBefore(_buildId: string, seq: number, dropped: number): Promise<void> {
    this.rows = this.rows.filter((r) => r.seq >= seq);
    this.dropped = dropped;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('BuildLogWriter', () => {
  test('lines are written in order, numbered from 1, and the log is closed', async () => {
    const sink = new MemorySink();
    const log = new BuildLogWriter('b1', sink, { flushIntervalMs: 10_000 });
    log.append('-----> Staging');
    log.append('-----> Release v1');
    assert.equal(sink.rows.length, 0, 'nothing is written before a flush');
    await log.close();
    assert.deepEqual(sink.rows, [
      { seq: 1, text: '-----> Staging' },
      { seq: 2, text: '-----> Release v1' },
    ]);
    assert.equal(sink.closed, true);
  });

  test('a full batch is written at once, without waiting for the interval', async () => {
    const sink = new MemorySink();
    const log = new BuildLogWriter('b1', sink, { flushIntervalMs: 10_000, maxBatch: 3 });
    for (let i = 0; i < 3; i++) log.append(`line ${i}`);
    await log.flush();
    assert.equal(sink.rows.length, 3);
    assert.equal(sink.writes, 1);
    await log.close();
  });

  test('only the last maxBytes are kept; the dropped lines are counted', async () => {
    const sink = new MemorySink();
    // Each "line NN" is 7 bytes + a newline: 8 bytes; 40 bytes keep 5 lines.
    const log = new BuildLogWriter('b1', sink, { maxBytes: 40, flushIntervalMs: 10_000, maxBatch: 4 });
    for (let i = 10; i < 30; i++) log.append(`line ${i}`);
    await log.close();
    assert.deepEqual(
      sink.rows.map((r) => r.text),
      ['line 25', 'line 26', 'line 27', 'line 28', 'line 29'],
    );
    assert.equal(sink.dropped, 15);
    assert.equal(sink.rows[0].seq, 16);
  });

  test('a very long line is cut', async () => {
    const sink = new MemorySink();
    const log = new BuildLogWriter('b1', sink);
    log.append('x'.repeat(BUILD_LOG_MAX_LINE_CHARS + 100));
    await log.close();
    assert.ok(sink.rows[0].text.endsWith('... [line cut]'));
    assert.equal(sink.rows[0].text.length, BUILD_LOG_MAX_LINE_CHARS + '... [line cut]'.length);
  });

  test('a failed write is reported and the next ones go on', async () => {
    const sink = new MemorySink();
    const errors: string[] = [];
    const log = new BuildLogWriter('b1', sink, { flushIntervalMs: 10_000, onError: (e) => errors.push(e.message) });
    sink.failNext = true;
    log.append('lost');
    await log.flush();
    log.append('kept');
    await log.close();
    assert.deepEqual(errors, ['database down']);
    assert.deepEqual(sink.rows.map((r) => r.text), ['kept']);
    assert.equal(sink.closed, true);
  });
});
