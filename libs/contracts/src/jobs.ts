import { z } from 'zod';

/**
 * Work a cell takes from its own BullMQ queue (`cellQueueName(cellId)`). One handler per name;
 * job ids are deterministic (`jobId.*`) so that the same work is never queued twice.
 */
export const CellJobName = {
  Stage: 'stage',
  StartInstance: 'start-instance',
  StopInstance: 'stop-instance',
} as const;
export type CellJobName = (typeof CellJobName)[keyof typeof CellJobName];

export const stageJobSchema = z.object({
  buildId: z.string(),
  appId: z.string(),
  appName: z.string(),
  /** URL of the source tarball in the blobstore. */
  sourceUrl: z.string(),
  /** URL the droplet must be PUT to. */
  dropletUploadUrl: z.string(),
  memoryMb: z.number().int().positive(),
  /** The buildpack the app names (manifest `buildpacks`, or its BUILDPACK variable); detection otherwise. */
  buildpack: z.string().optional(),
  /** The app's own variables, given to bin/compile as ENV_DIR (one file per variable, as on Heroku). */
  env: z.record(z.string(), z.string()).default({}),
});
export type StageJob = z.infer<typeof stageJobSchema>;

export const stageResultSchema = z.object({
  ok: z.boolean(),
  buildpack: z.string().optional(),
  startCommand: z.string().optional(),
  /** Every process type and its command: the Procfile's, plus the buildpack's default web. */
  processTypes: z.record(z.string(), z.string()).optional(),
  error: z.string().optional(),
});
export type StageResult = z.infer<typeof stageResultSchema>;

export const healthCheckSchema = z.object({
  type: z.enum(['port', 'http', 'process']),
  /** Path for `http` checks, e.g. /health. */
  endpoint: z.string().optional(),
  /** How long the instance has to become healthy after it starts. */
  timeoutS: z.number().int().positive(),
});
export type HealthCheck = z.infer<typeof healthCheckSchema>;

export const startInstanceJobSchema = z.object({
  instanceId: z.string(),
  appId: z.string(),
  appName: z.string(),
  spaceId: z.string(),
  spaceName: z.string(),
  orgName: z.string(),
  releaseId: z.string(),
  processType: z.string(),
  index: z.number().int().nonnegative(),
  dropletId: z.string(),
  dropletUrl: z.string(),
  startCommand: z.string(),
  memoryMb: z.number().int().positive(),
  diskMb: z.number().int().positive(),
  healthCheck: healthCheckSchema,
  /** The app's own environment (release env). */
  env: z.record(z.string(), z.string()),
  /** Fully qualified hosts of the routes bound to this process (VCAP_APPLICATION.uris). */
  uris: z.array(z.string()),
  /** Only instances of processes bound to a route register endpoints. */
  routable: z.boolean(),
});
export type StartInstanceJob = z.infer<typeof startInstanceJobSchema>;

export const stopInstanceJobSchema = z.object({
  instanceId: z.string(),
  appId: z.string(),
  reason: z.string(),
});
export type StopInstanceJob = z.infer<typeof stopInstanceJobSchema>;

export const jobId = {
  stage: (buildId: string) => `stage-${buildId}`,
  start: (instanceId: string) => `start-${instanceId}`,
  stop: (instanceId: string) => `stop-${instanceId}`,
};
