import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CellPresence } from '@paas/contracts';
import { pickStagingCell, placeInstance, reserve } from './placement';

const cell = (id: string, zone: string, used = 0, memoryMb = 4096, instances = 0, max = 100, state: 'live' | 'draining' = 'live'): CellPresence => ({
  id,
  address: '127.0.0.1',
  zone,
  capacity: { memoryMb, maxContainers: max },
  instances,
  usedMemoryMb: used,
  state,
  startedAt: new Date(0).toISOString(),
});
const empty = () => ({ perCell: new Map<string, number>(), perZone: new Map<string, number>() });

test('spreads an app across zones first, then across cells', () => {
  const cells = [cell('a1', 'z1'), cell('a2', 'z1'), cell('b1', 'z2')];
  const spread = empty();
  const picks: string[] = [];
  for (let i = 0; i < 4; i++) {
    const placed = placeInstance(cells, 256, spread);
    assert.ok('cell' in placed);
    picks.push(placed.cell.id);
    reserve(placed.cell, 256, spread);
  }
  assert.deepEqual(picks.slice(0, 2).sort(), ['a1', 'b1'], 'first one instance per zone');
  assert.equal(new Set(picks.slice(0, 3)).size, 3, 'then every cell');
});

test('prefers the least used cell when the spread is equal', () => {
  const placed = placeInstance([cell('a', 'z1', 3000), cell('b', 'z1', 1000)], 256, empty());
  assert.ok('cell' in placed);
  assert.equal(placed.cell.id, 'b');
});

test('skips draining and full cells', () => {
  const placed = placeInstance([cell('a', 'z1', 0, 4096, 0, 100, 'draining'), cell('b', 'z1', 0, 4096, 5, 5), cell('c', 'z1')], 256, empty());
  assert.ok('cell' in placed);
  assert.equal(placed.cell.id, 'c');
});

test('an instance that fits nowhere gets a reason naming the sizes', () => {
  const placed = placeInstance([cell('a', 'z1', 3840, 4096), cell('b', 'z1', 4000, 4096)], 512, empty());
  assert.ok('reason' in placed);
  assert.equal(placed.reason, 'needs 512 MB, largest free 256 MB: lower the memory limit or add a cell');
  const none = placeInstance([], 256, empty());
  assert.ok('reason' in none && /no cell is running/.test(none.reason));
  const draining = placeInstance([cell('a', 'z1', 0, 4096, 0, 100, 'draining')], 256, empty());
  assert.ok('reason' in draining && /draining/.test(draining.reason));
});

test('staging goes back to the cell that staged the app last, unless it is draining or full', () => {
  const cells = [cell('a1', 'z1', 0), cell('a2', 'z1', 3000)];
  assert.equal(pickStagingCell(cells, 'a2')?.id, 'a2', 'the build cache is on a2, though a1 is less used');
  assert.equal(pickStagingCell(cells, undefined)?.id, 'a1', 'no earlier build: the least used cell');
  assert.equal(pickStagingCell(cells, 'gone')?.id, 'a1', 'the earlier cell is gone: the least used cell');
  assert.equal(pickStagingCell([cell('a1', 'z1'), cell('a2', 'z1', 0, 4096, 0, 100, 'draining')], 'a2')?.id, 'a1', 'never a draining cell');
  assert.equal(pickStagingCell([cell('a1', 'z1'), cell('a2', 'z1', 0, 4096, 100, 100)], 'a2')?.id, 'a1', 'never a full cell');
});
