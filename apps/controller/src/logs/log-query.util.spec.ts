import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainException } from '../platform/common/domain.exception';
import { parseRecentQuery, parseStreamStart, sseComment, sseLogEvent } from './log-query.util';

const rejects = (fn: () => unknown, field: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof DomainException && e.code === 'validation-failed' && field.test(e.message));

test('recent: limit defaults to 100, at most 1000; since is an entry id', () => {
  assert.deepEqual(parseRecentQuery({}), { limit: 100 });
  assert.deepEqual(parseRecentQuery({ recent: 'true', limit: '1000' }), { limit: 1000 });
  assert.deepEqual(parseRecentQuery({ limit: '5', since: '1700000000000-3' }), { limit: 5, since: '1700000000000-3' });
  assert.deepEqual(parseRecentQuery({ since: '0' }), { limit: 100, since: '0-0' });
  rejects(() => parseRecentQuery({ limit: '0' }), /^limit: must be a whole number from 1 to 1000/);
  rejects(() => parseRecentQuery({ limit: '1001' }), /^limit/);
  rejects(() => parseRecentQuery({ limit: '2.5' }), /^limit/);
  rejects(() => parseRecentQuery({ limit: ['1', '2'] }), /^limit/);
  rejects(() => parseRecentQuery({ since: 'yesterday' }), /^since: must be the id of a log entry/);
});

test('stream: Last-Event-ID wins over since; since resumes; otherwise new lines after the last N', () => {
  assert.deepEqual(parseStreamStart('1700000000000-7', { since: '1-1', recent: '5' }), { kind: 'after', id: '1700000000000-7' });
  assert.deepEqual(parseStreamStart(['12-0', '13-0'], {}), { kind: 'after', id: '12-0' });
  assert.deepEqual(parseStreamStart(undefined, { since: '12-3' }), { kind: 'after', id: '12-3' });
  assert.deepEqual(parseStreamStart(undefined, { since: '0' }), { kind: 'after', id: '0-0' });
  assert.deepEqual(parseStreamStart(undefined, { since: '$' }), { kind: 'tail', recent: 0 });
  assert.deepEqual(parseStreamStart('', { recent: '20' }), { kind: 'tail', recent: 20 });
  assert.deepEqual(parseStreamStart(undefined, {}), { kind: 'tail', recent: 0 });
  rejects(() => parseStreamStart('nonsense', {}), /^Last-Event-ID/);
  rejects(() => parseStreamStart(undefined, { since: '12' }), /^since/);
  rejects(() => parseStreamStart(undefined, { recent: '5000' }), /^recent: must be a whole number from 0 to 1000/);
});

test('an entry is one event: its id, event log, and the JSON entry on one data line', () => {
  const entry = { id: '1700000000000-0', timestamp: '2023-11-14T22:13:20.000Z', source: 'APP/PROC/WEB/0', stream: 'OUT' as const, text: 'a\nb "c"' };
  const frame = sseLogEvent(entry);
  assert.equal(frame, `id: 1700000000000-0\nevent: log\ndata: ${JSON.stringify(entry)}\n\n`);
  assert.equal(frame.split('\n').length, 5, 'a newline in the text cannot break the frame');
  assert.deepEqual(JSON.parse(frame.split('\n')[2]!.slice('data: '.length)), entry);
  assert.equal(sseComment('heartbeat'), ': heartbeat\n\n');
  assert.equal(sseComment('a\nb'), ': a b\n\n');
});
