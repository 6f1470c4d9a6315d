import { z } from 'zod';

/** What a cell announces about itself; refreshed with a TTL, gone when the cell is. */
export const cellPresenceSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]{1,40}$/),
  /** Address the router and controller use to reach this cell's host ports. */
  address: z.string(),
  zone: z.string(),
  capacity: z.object({ memoryMb: z.number().int().positive(), maxContainers: z.number().int().positive() }),
  instances: z.number().int().nonnegative(),
  /** Memory reserved by the instances this cell runs (their limits). */
  usedMemoryMb: z.number().int().nonnegative().default(0),
  /** `draining`: takes no new work; its instances are being started elsewhere. */
  state: z.enum(['live', 'draining']).default('live'),
  startedAt: z.string(),
});
export type CellPresence = z.infer<typeof cellPresenceSchema>;
/** What a cell writes (defaults not yet applied). */
export type CellPresenceInput = z.input<typeof cellPresenceSchema>;

/**
 * A cell whose presence is this old is lost and its instances are replaced: a dead host's
 * instances answer elsewhere within it plus a convergence pass and a start (the 10 s goal of
 * `npm run bench:recovery`; 15 s with a 5 s heartbeat took 14-15 s). It outlasts a 5 s Redis
 * stall by a second after the last heartbeat, and an agent restart must announce within about 6 s.
 */
export const CELL_PRESENCE_TTL_SECONDS = 7;
/** How often a cell refreshes its presence (capacity, instances, state): several times within CELL_PRESENCE_TTL_SECONDS. */
export const CELL_HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * The file in a cell's data dir where the cell records, at start, the runtime config it runs its
 * containers with (JSON of @paas/runtime's RuncRuntimeConfig, 0600): what it made on the host, so
 * a sweeper can remove it all after the cell and whatever supervised it were killed.
 */
export const CELL_RUNTIME_RECORD = 'runtime.json';
