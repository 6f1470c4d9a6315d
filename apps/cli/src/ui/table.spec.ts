import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnWidths, renderTable, truncate } from './table';

test('truncate keeps text that fits and ends cut text with an ellipsis', () => {
  assert.equal(truncate('hello', 5), 'hello');
  assert.equal(truncate('hello', 4), 'hel…');
  assert.equal(truncate('hello', 1), '…');
  assert.equal(truncate('hello', 0), '');
});

test('a table that fits keeps natural widths, columns two spaces apart, no trailing spaces', () => {
  const lines = renderTable([{ header: 'name' }, { header: 'n', align: 'right' }, { header: 'url' }], [['a', '10', 'http://x/'], ['long-name', '2', '']], Infinity);
  assert.deepEqual(lines, ['name        n  url', 'a          10  http://x/', 'long-name   2']);
});

test('a table wider than the terminal shrinks the most shrinkable, widest column first, and never exceeds the width', () => {
  const columns = [{ header: 'name', shrink: 0 }, { header: 'state', shrink: 0 }, { header: 'url', shrink: 2 }, { header: 'space' }];
  const rows = [['shop', 'STARTED', 'http://shop.apps.example.com:8080/very/long/path', 'acme/production']];
  const lines = renderTable(columns, rows, 50);
  for (const line of lines) assert.ok(line.length <= 50, `${JSON.stringify(line)} fits in 50`);
  assert.match(lines[1], /^shop  STARTED  http:\/\/shop\.apps\.…  acme\/production$/, 'the url was cut, the rest kept whole');
  // Narrower still: the url reaches its minimum, then space shrinks too.
  const narrow = renderTable(columns, rows, 30);
  for (const line of narrow) assert.ok(line.length <= 30, `${JSON.stringify(line)} fits in 30`);
  assert.match(narrow[1], /^shop  STARTED  /);
});

test('when no column may shrink any more the table is as narrow as the minimums allow', () => {
  const widths = columnWidths([{ header: 'a', min: 5 }, { header: 'b', min: 5 }], [['xxxxxxxxxx', 'yyyyyyyyyy']], 4);
  assert.deepEqual(widths, [5, 5]);
});

test('styles apply after fitting, so colour codes never count as width', () => {
  const red = (t: string) => `\x1b[31m${t}\x1b[39m`;
  const lines = renderTable([{ header: 'state' }, { header: 'x' }], [[{ text: 'CRASHED', style: red }, 'y']], Infinity);
  assert.equal(lines[1], '\x1b[31mCRASHED\x1b[39m  y');
});
