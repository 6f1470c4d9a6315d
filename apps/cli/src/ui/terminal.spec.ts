import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorEnabled, terminalWidth } from './terminal';

test('colours only on a TTY, never with NO_COLOR or TERM=dumb, always with FORCE_COLOR', () => {
  assert.equal(colorEnabled(true, {}), true);
  assert.equal(colorEnabled(false, {}), false);
  assert.equal(colorEnabled(true, { NO_COLOR: '1' }), false);
  assert.equal(colorEnabled(true, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not count (no-color.org)');
  assert.equal(colorEnabled(true, { TERM: 'dumb' }), false);
  assert.equal(colorEnabled(false, { FORCE_COLOR: '1' }), true);
  assert.equal(colorEnabled(true, { FORCE_COLOR: '0' }), true);
  assert.equal(colorEnabled(false, { FORCE_COLOR: '0' }), false);
});

test('tables fit the terminal, $COLUMNS wins, and a pipe gets whole lines', () => {
  assert.equal(terminalWidth({ isTTY: true, columns: 120 }, {}), 120);
  assert.equal(terminalWidth({ isTTY: true, columns: 120 }, { COLUMNS: '60' }), 60);
  assert.equal(terminalWidth({ isTTY: false }, {}), Infinity);
});
