import { z } from 'zod';

/** What a cell announces about itself; refreshed with a TTL, gone when the cell is. */
export const cellPresenceSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]{1,40}$/),
  /** Address the router and controller use to reach this cell's host ports. */
  address: z.string(),
  zone: z.string(),
  capacity: z.object({ memoryMb: z.number().int().positive(), maxContainers: z.number().int().positive() }),
  instances: z.number().int().nonnegative(),
  startedAt: z.string(),
});
export type CellPresence = z.infer<typeof cellPresenceSchema>;

export const CELL_PRESENCE_TTL_SECONDS = 15;
export const CELL_HEARTBEAT_INTERVAL_MS = 5_000;
