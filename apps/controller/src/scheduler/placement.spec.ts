import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CellPresence } from '@paas/contracts';
import { pickCell } from './placement';

const cell = (id: string, instances: number, max = 10): CellPresence => ({
  id,
  address: '127.0.0.1',
  zone: 'z1',
  capacity: { memoryMb: 4096, maxContainers: max },
  instances,
  startedAt: new Date(0).toISOString(),
});

test('prefers the cell with fewer instances of the same app, so instances spread', () => {
  const picked = pickCell([cell('a', 0), cell('b', 5)], new Map([['a', 2]]));
  assert.equal(picked?.id, 'b');
});

test('then prefers the least used cell', () => {
  assert.equal(pickCell([cell('a', 3), cell('b', 1)], new Map())?.id, 'b');
});

test('skips full cells and returns undefined when none has room', () => {
  assert.equal(pickCell([cell('a', 2, 2), cell('b', 1, 1)], new Map()), undefined);
  assert.equal(pickCell([cell('a', 2, 2), cell('b', 0, 1)], new Map())?.id, 'b');
});
