import { z } from 'zod';

export const instanceStateSchema = z.enum(['STARTING', 'RUNNING', 'STOPPING', 'CRASHED', 'STOPPED']);
export type InstanceState = z.infer<typeof instanceStateSchema>;

/**
 * The life of an instance, as its cell reports it: STARTING until its health check passes, then
 * RUNNING; CRASHED when it exits, is OOM-killed or fails its checks (the convergence loop then
 * replaces it); STOPPING from the moment its cell takes a stop (scale down, app stopped, replaced
 * by a deploy, cell draining: its routes are withdrawn, its process has its grace period to exit),
 * until the record is dropped or it is STOPPED. CRASHED and STOPPED are final: a restart is a new
 * instance. A STOPPING instance never runs again: it counts as neither running nor present.
 */
const TRANSITIONS: Record<InstanceState, readonly InstanceState[]> = {
  STARTING: ['RUNNING', 'CRASHED', 'STOPPING', 'STOPPED'],
  RUNNING: ['CRASHED', 'STOPPING', 'STOPPED'],
  STOPPING: ['STOPPED'],
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

/**
 * How a container's process ended, as its cell learnt it from runc: `status` is what runc
 * returned (the exit status, or 128 + N when signal N killed it, as shells report it), absent when
 * the cell could not learn it (the container ended while no runc waited for it); `oomKilled` when
 * the memory cgroup killed it.
 */
export const instanceExitSchema = z.object({
  status: z.number().int().nonnegative().optional(),
  oomKilled: z.boolean(),
});
export type InstanceExit = z.infer<typeof instanceExitSchema>;

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
  /** Why it CRASHED (its exit status or signal, or the failed check, then its last log lines), or why it is STOPPING. */
  reason: z.string().optional(),
  /** How its process ended, when CRASHED by an exit (not by a failed check). */
  exit: instanceExitSchema.optional(),
  /** Crashes of this instance index on this cell since it was placed. */
  crashCount: z.number().int().nonnegative().default(0),
  /** The limits its container runs with (from the start job); absent in records of older cells. */
  memoryMb: z.number().int().positive().optional(),
  diskMb: z.number().int().positive().optional(),
  /** The latest usage sample while STARTING or RUNNING; absent until the first sample. */
  usage: instanceUsageSchema.optional(),
});
export type ActualInstance = z.infer<typeof actualInstanceSchema>;
