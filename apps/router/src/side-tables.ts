import type { Redis } from 'ioredis';

/**
 * A table the router keeps beside the routes (certificates, well-known answers): `load` reads it
 * in full on the router's command connection and applies it. RouteSync calls it at every full
 * sync and on each change message of `kind`.
 */
export interface SideTable {
  kind: 'certificates' | 'well-known';
  load(redis: Redis): Promise<void>;
}

/**
 * Runs side-table loads one at a time per table: a load asked for while one runs makes one more
 * after it (the running one may have read the hash before the change) and resolves with it.
 */
export class SideTableLoads {
  private readonly running = new Map<SideTable, { done: Promise<void>; again: boolean }>();

  load(side: SideTable, redis: Redis): Promise<void> {
    const running = this.running.get(side);
    if (running) {
      running.again = true;
      return running.done;
    }
    const state = { done: Promise.resolve(), again: false };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await side.load(redis);
        } while (state.again);
      } finally {
        this.running.delete(side);
      }
    })();
    this.running.set(side, state);
    return state.done;
  }

  /** Loads every table of `kind` (a change message); a failure goes to `failed`, and the next full sync catches up. */
  reloadKind(kind: string, sides: readonly SideTable[], redis: Redis, failed: (side: SideTable, err: unknown) => void): void {
    for (const side of sides) {
      if (side.kind === kind) this.load(side, redis).catch((err: unknown) => failed(side, err));
    }
  }
}
