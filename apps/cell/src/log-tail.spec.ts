import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineRing, logTail } from './log-tail';

test('logTail keeps the last meaningful lines, oldest first', () => {
  const log = ['booting', 'npm notice New version', '', 'Error: boom: missing DATABASE_URL', '    at Object.<anonymous> (/home/vcap/app/server.js:1:7)', '    at Module._compile (node:internal)', 'Node.js v24.1.0', ''].join('\n');
  assert.deepEqual(logTail(log, 3), ['booting', 'Error: boom: missing DATABASE_URL', 'Node.js v24.1.0']);
  assert.deepEqual(logTail(log, 2), ['Error: boom: missing DATABASE_URL', 'Node.js v24.1.0']);
  assert.deepEqual(logTail('', 5), []);
});

test('logTail cuts very long lines and strips carriage returns', () => {
  const [line] = logTail(`${'x'.repeat(1000)}\r\n`);
  assert.equal(line.length, 301);
  assert.ok(line.endsWith('…'));
  assert.deepEqual(logTail('a\r\nb\r\n'), ['a', 'b']);
});

test('LineRing keeps a bounded window of a stream', () => {
  const ring = new LineRing(3);
  for (const l of ['1', '2', '3', '4', '5']) ring.push(l);
  assert.deepEqual(ring.tail(10), ['3', '4', '5']);
  assert.deepEqual(ring.tail(2), ['4', '5']);
});
