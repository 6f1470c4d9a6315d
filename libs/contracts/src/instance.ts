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
