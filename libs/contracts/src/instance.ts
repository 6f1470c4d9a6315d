import { z } from 'zod';

export const instanceStateSchema = z.enum(['STARTING', 'RUNNING', 'CRASHED', 'STOPPED']);
export type InstanceState = z.infer<typeof instanceStateSchema>;

/** Actual state of one app instance, as its cell reports it. */
export const actualInstanceSchema = z.object({
  instanceId: z.string(),
  appId: z.string(),
  appName: z.string(),
  releaseId: z.string(),
  processType: z.string(),
  index: z.number().int().nonnegative(),
  cellId: z.string(),
  state: instanceStateSchema,
  /** host:port on the cell's address, set once the container listens. */
  address: z.string().optional(),
  since: z.string(),
  reason: z.string().optional(),
  /** Crashes of this instance index on this cell since it was placed. */
  crashCount: z.number().int().nonnegative().default(0),
});
export type ActualInstance = z.infer<typeof actualInstanceSchema>;
