import type { CellPresence } from '@paas/contracts';

/** Where an app's instances already are, to spread new ones. */
export interface Spread {
  perCell: ReadonlyMap<string, number>;
  perZone: ReadonlyMap<string, number>;
}

export type Placement = { cell: CellPresence } | { reason: string };

/**
 * Picks the cell for one new instance needing `memoryMb`: among live (not draining) cells with
 * room (memory and containers), the one in the zone with the fewest instances of this app, then
 * the cell with the fewest, then the least used cell (by memory), then by id (stable). When none
 * fits, the reason says why, e.g. "needs 512 MB, largest free 256 MB". Pure; O(cells).
 */
export function placeInstance(cells: readonly CellPresence[], memoryMb: number, spread: Spread): Placement {
  let best: CellPresence | undefined;
  let bestKey: [number, number, number, string] | undefined;
  let largestFree = 0;
  let live = 0;
  for (const cell of cells) {
    if (cell.state === 'draining') continue;
    live++;
    const free = cell.capacity.memoryMb - (cell.usedMemoryMb ?? 0);
    if (cell.instances >= cell.capacity.maxContainers) continue;
    largestFree = Math.max(largestFree, free);
    if (free < memoryMb) continue;
    const key: [number, number, number, string] = [
      spread.perZone.get(cell.zone) ?? 0,
      spread.perCell.get(cell.id) ?? 0,
      (cell.usedMemoryMb ?? 0) / cell.capacity.memoryMb,
      cell.id,
    ];
    if (!bestKey || compare(key, bestKey) < 0) {
      best = cell;
      bestKey = key;
    }
  }
  if (best) return { cell: best };
  if (cells.length === 0) return { reason: 'no cell is running: start a cell' };
  if (live === 0) return { reason: 'every cell is draining: start a cell or wait for the drain to end' };
  if (largestFree === 0) return { reason: 'every cell is full (containers or memory): add a cell or stop some apps' };
  return { reason: `needs ${memoryMb} MB, largest free ${largestFree} MB: lower the memory limit or add a cell` };
}

function compare(a: [number, number, number, string], b: [number, number, number, string]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3].localeCompare(b[3]);
}

/** Books a placement on the in-memory view, so the next pick sees it. */
export function reserve(cell: CellPresence, memoryMb: number, spread: { perCell: Map<string, number>; perZone: Map<string, number> }): void {
  cell.instances += 1;
  cell.usedMemoryMb = (cell.usedMemoryMb ?? 0) + memoryMb;
  spread.perCell.set(cell.id, (spread.perCell.get(cell.id) ?? 0) + 1);
  spread.perZone.set(cell.zone, (spread.perZone.get(cell.zone) ?? 0) + 1);
}

/**
 * The cell to stage an app on: the one that staged its last build, whose build cache (npm cache,
 * node_modules) is there, while that cell is live and has a container free; else any live cell
 * with room, least used first. Pure.
 */
export function pickStagingCell(cells: CellPresence[], lastCellId: string | undefined): CellPresence | undefined {
  const last = cells.find((c) => c.id === lastCellId && c.state !== 'draining' && c.instances < c.capacity.maxContainers);
  return last ?? pickCell(cells, new Map());
}

/** Any live cell with room, least used first. */
export function pickCell(cells: CellPresence[], appInstancesPerCell: ReadonlyMap<string, number>): CellPresence | undefined {
  const placed = placeInstance(cells, 0, { perCell: appInstancesPerCell, perZone: new Map() });
  return 'cell' in placed ? placed.cell : undefined;
}
