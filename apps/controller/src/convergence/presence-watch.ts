/**
 * How often the convergence leader reads the cell registry between its passes. A cell whose
 * presence expired at the last read starts a pass at once instead of at the next periodic one,
 * so a lost cell's instances are replaced within this of the expiry (plus a container start).
 * The read is two Redis commands (SMEMBERS, MGET) on the leader alone; every replica also tries
 * the lease (one EVAL, and a SET NX where it does not lead) at this pace.
 */
export const PRESENCE_WATCH_MS = 250;

/**
 * The cells live at the previous read whose presence has expired since (`expired` as
 * readCellRegistry gives it). Nothing before a first read (`previous` undefined): the periodic
 * pass covers what expired while this replica did not lead. A withdrawn cell (clean shutdown,
 * or every key gone with a Redis restarted empty) is not among them: it is no expiry, and its
 * instances were drained already or will be reported again by their cells.
 */
export function newlyExpired(previous: ReadonlySet<string> | undefined, expired: readonly string[]): string[] {
  if (!previous) return [];
  return expired.filter((id) => previous.has(id));
}
