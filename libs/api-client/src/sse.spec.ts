import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSse, type SseEvent } from './sse';

async function collect(chunks: string[]): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  async function* body() {
    for (const c of chunks) yield new TextEncoder().encode(c);
  }
  for await (const e of parseSse(body())) events.push(e);
  return events;
}

test('events split across chunks, with CRLF or LF, comments and multi-line data', async () => {
  const events = await collect([': keep-alive\n\nid: 1-0\nevent: log\nda', 'ta: {"a":1}\r', '\n\r\nid: 2-0\nevent: log\ndata: line one\ndata: line two\n\n', 'data: no id\n\n']);
  assert.deepEqual(events, [
    { id: '1-0', event: 'log', data: '{"a":1}' },
    { id: '2-0', event: 'log', data: 'line one\nline two' },
    { id: '2-0', event: 'message', data: 'no id' },
  ]);
});

test('an event without data is not dispatched, and an unfinished event at the end is dropped', async () => {
  const events = await collect(['event: log\n\n', 'id: 5\ndata: cut off']);
  assert.deepEqual(events, []);
});

test('"field:value" without a space, and a field without a colon', async () => {
  const events = await collect(['data:x\ndata\n\n']);
  assert.deepEqual(events, [{ event: 'message', data: 'x\n' }]);
});
