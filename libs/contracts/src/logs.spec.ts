import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { appLogEnvShape, appLogFields, appLogSettings, compareStreamIds, cutLogLine, LOG_LINE_MAX_CHARS, logEntryOf, logEntrySchema, logSource } from './logs';

test('source tags follow Cloud Foundry', () => {
  assert.equal(logSource.app('web', 0), 'APP/PROC/WEB/0');
  assert.equal(logSource.app('worker', 1), 'APP/PROC/WORKER/1');
  assert.equal(logSource.task('release'), 'APP/TASK/RELEASE/0');
  assert.equal(logSource.staging, 'STG/0');
  assert.equal(logSource.router(), 'RTR/0');
  assert.equal(logSource.cell(2), 'CELL/2');
  assert.equal(logSource.api, 'API/0');
});

test('a line is stored without its carriage return and cut at the maximum length', () => {
  assert.equal(cutLogLine('hello\r'), 'hello');
  assert.equal(cutLogLine('\u001b[32mgreen\u001b[0m'), '\u001b[32mgreen\u001b[0m', 'colour codes stay');
  const long = cutLogLine('x'.repeat(LOG_LINE_MAX_CHARS + 10));
  assert.ok(long.startsWith('x'.repeat(LOG_LINE_MAX_CHARS)));
  assert.ok(long.endsWith('[line cut]'));
  assert.equal(long.length, LOG_LINE_MAX_CHARS + ' [line cut]'.length);
});

test('stream fields round-trip to an API entry whose timestamp is the id time', () => {
  const fields = appLogFields({ source: 'APP/PROC/WEB/0', stream: 'ERR', text: 'boom', at: 5 });
  assert.deepEqual(fields, ['t', '5', 'src', 'APP/PROC/WEB/0', 's', 'ERR', 'm', 'boom']);
  const entry = logEntryOf('1700000000123-4', fields);
  assert.deepEqual(entry, { id: '1700000000123-4', timestamp: '2023-11-14T22:13:20.123Z', source: 'APP/PROC/WEB/0', stream: 'ERR', text: 'boom' });
  assert.ok(logEntrySchema.safeParse(entry).success);
  assert.equal(logEntryOf('1-0', ['src', 'x', 's', 'WHAT', 'm', 'y']), undefined, 'an unknown stream is no log line');
  assert.equal(logEntryOf('1-0', ['s', 'OUT']), undefined);
});

test('stream ids order by milliseconds, then sequence, beyond the safe integers', () => {
  assert.ok(compareStreamIds('1-1', '1-2') < 0);
  assert.ok(compareStreamIds('2-0', '1-9') > 0);
  assert.equal(compareStreamIds('5-5', '5-5'), 0);
  assert.ok(compareStreamIds('18446744073709551615-1', '18446744073709551615-0') > 0);
});

test('app log settings parse from the environment with defaults', () => {
  const schema = z.object(appLogEnvShape);
  assert.deepEqual(appLogSettings(schema.parse({})), { maxLines: 5000, ttlSeconds: 604800, ratePerSecond: 200, burst: 1000 });
  assert.deepEqual(appLogSettings(schema.parse({ PAAS_APP_LOG_MAX_LINES: '200', PAAS_APP_LOG_TTL_S: '0', PAAS_APP_LOG_RATE_LIMIT: '5', PAAS_APP_LOG_BURST: '10' })), {
    maxLines: 200,
    ttlSeconds: 0,
    ratePerSecond: 5,
    burst: 10,
  });
  assert.equal(schema.safeParse({ PAAS_APP_LOG_MAX_LINES: '10' }).success, false);
  assert.equal(schema.safeParse({ PAAS_APP_LOG_RATE_LIMIT: '0' }).success, false);
});
