import { z } from 'zod';

export const instanceStateSchema = z.enum(['STARTING', 'RUNNING', 'CRASHED', 'STOPPED']);
export type InstanceState = z.infer<typeof instanceStateSchema>;

/**
 * The life of an instance, as its cell reports it: STARTING until its health check passes, then
 * RUNNING; CRASHED when it exits, is OOM-killed or fails its checks (the convergence loop then
 * replaces it); STOPPED when it was asked to stop. CRASHED and STOPPED are final: a restart is a
 * new instance.
 */
const TRANSITIONS: Record<InstanceState, readonly InstanceState[]> = {
  STARTING: ['RUNNING', 'CRASHED', 'STOPPED'],
  RUNNING: ['CRASHED', 'STOPPED'],
  CRASHED: [],
  STOPPED: [],
};

export function allowsTransition(from: InstanceState, to: InstanceState): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/**
 * What one instance uses, as its cell last sampled it (every CELL_USAGE_INTERVAL_MS) from its
 * container's cgroup and writable layer. See docs/metrics.md.
 */
export const instanceUsageSchema = z.object({
  /** CPU time used over the last sampling interval, in % of one core (200 = two cores busy), as `cf app` shows it. */
  cpuPercent: z.number().nonnegative(),
  /** Memory in use: the cgroup's usage minus its inactive file cache (reclaimable), as `docker stats` counts it. */
  memoryBytes: z.number().int().nonnegative(),
  /** Bytes used on the container's writable layer (files it wrote, /tmp included). */
  diskBytes: z.number().int().nonnegative(),
  /** ISO time of the sample. */
  measuredAt: z.string(),
});
export type InstanceUsage = z.infer<typeof instanceUsageSchema>;

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
  /** The limits its container runs with (from the start job); absent in records of older cells. */
  memoryMb: z.number().int().positive().optional(),
  diskMb: z.number().int().positive().optional(),
  /** The latest usage sample while STARTING or RUNNING; absent until the first sample. */
  usage: instanceUsageSchema.optional(),
});
export type ActualInstance = z.infer<typeof actualInstanceSchema>;
