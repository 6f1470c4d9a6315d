import type { CellPresence } from '@paas/contracts';

/**
 * Picks the cell for a new instance: among live cells with room, the one with the fewest
 * instances of this app, then the fewest instances overall, then by id (stable). Pure logic.
 */
export function pickCell(
  cells: CellPresence[],
  appInstancesPerCell: ReadonlyMap<string, number>,
): CellPresence | undefined {
  const candidates = cells.filter((c) => c.instances < c.capacity.maxContainers);
  candidates.sort(
    (a, b) =>
      (appInstancesPerCell.get(a.id) ?? 0) - (appInstancesPerCell.get(b.id) ?? 0) ||
      a.instances - b.instances ||
      a.id.localeCompare(b.id),
  );
  return candidates[0];
}
