import { z } from 'zod';
import { egressRulesSchema } from './security-groups';
import { boundServiceSchema } from './services';

/**
 * Work a cell takes from its own BullMQ queue (`cellQueueName(cellId)`). One handler per name;
 * job ids are deterministic (`jobId.*`) so that the same work is never queued twice.
 */
export const CellJobName = {
  Stage: 'stage',
  StartInstance: 'start-instance',
  StopInstance: 'stop-instance',
  RunTask: 'run-task',
  StopTask: 'stop-task',
  ForgetApp: 'forget-app',
  /** Backing services (services.ts): run a service instance's server, or remove it for good. */
  StartService: 'start-service',
  DeleteService: 'delete-service',
  /** Resize a service instance to a new plan (grow its volume, new memory), or restore a Redis backup into it. */
  UpdateService: 'update-service',
  RestoreService: 'restore-service',
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
  /** The staging security groups' rules of the app's space (platform defaults included); none: nothing beyond the platform's allowances. */
  egress: egressRulesSchema.optional(),
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

/** What every container of an app's release is given: who it is, its droplet, limits and env. */
const releaseContainerSchema = z.object({
  appId: z.string(),
  appName: z.string(),
  spaceId: z.string(),
  spaceName: z.string(),
  orgName: z.string(),
  releaseId: z.string(),
  /** VCAP_APPLICATION.process_type: web, worker, ..., or "release" for the release phase. */
  processType: z.string(),
  dropletId: z.string(),
  dropletUrl: z.string(),
  memoryMb: z.number().int().positive(),
  diskMb: z.number().int().positive(),
  /**
   * CPU quota in millicores (500: at most half a core of CPU time); unset: no quota, only the CPU
   * shares every container gets from its memory.
   */
  cpuMillicores: z.number().int().positive().optional(),
  /** The app's own environment (release env). */
  env: z.record(z.string(), z.string()),
  /** Fully qualified hosts of the routes bound to the process (VCAP_APPLICATION.uris). */
  uris: z.array(z.string()),
  /** The running security groups' rules of the app's space (platform defaults included), read when the job was built. */
  egress: egressRulesSchema.optional(),
  /** The service instances bound to the app when the job was built (VCAP_SERVICES, DATABASE_URL, egress to their endpoints). */
  services: z.array(boundServiceSchema).optional(),
});

export const startInstanceJobSchema = releaseContainerSchema.extend({
  instanceId: z.string(),
  index: z.number().int().nonnegative(),
  startCommand: z.string(),
  healthCheck: healthCheckSchema,
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

/** Longest a one-off task may run (the release phase asks for 10 minutes). */
export const MAX_TASK_TIMEOUT_S = 3600;

/**
 * A one-off task (the release phase): the release's droplet run to completion in a container of
 * its own, with the app's env contract minus PORT. Output lines and the end go to the pub/sub
 * channel `redisKeys.taskLog(taskId)` as `{type:'line',text}` then `{type:'end',result}`.
 */
export const runTaskJobSchema = releaseContainerSchema.extend({
  /** Unique per task; the release phase uses its deployment's id, so a deploy never runs it twice. */
  taskId: z.string().regex(/^[a-zA-Z0-9-]{1,64}$/),
  command: z.string().min(1),
  timeoutS: z.number().int().positive().max(MAX_TASK_TIMEOUT_S),
});
export type RunTaskJob = z.infer<typeof runTaskJobSchema>;

export const runTaskResultSchema = z.object({
  /** The command's exit code; -1 when it never ran (e.g. the droplet could not be fetched). */
  exitCode: z.number().int(),
  /** Why it ended other than by itself: out of memory, its timeout, a stop-task, or a cell error. */
  reason: z.enum(['oom', 'timeout', 'canceled', 'error']).optional(),
  /** What went wrong when reason is 'error'. */
  error: z.string().optional(),
  /** Its last output lines (stdout and stderr interleaved), oldest first. */
  lastLines: z.array(z.string()),
  durationMs: z.number().nonnegative(),
});
export type RunTaskResult = z.infer<typeof runTaskResultSchema>;

/** Stops a running task (a canceled deployment); safe for a task that ended or never ran. */
export const stopTaskJobSchema = z.object({
  taskId: z.string(),
  reason: z.string(),
});
export type StopTaskJob = z.infer<typeof stopTaskJobSchema>;

/** The app was deleted: the cell drops what it keeps for it (its build cache). Safe to repeat. */
export const forgetAppJobSchema = z.object({
  appId: z.string().regex(/^[a-zA-Z0-9-]+$/),
});
export type ForgetAppJob = z.infer<typeof forgetAppJobSchema>;

export const jobId = {
  stage: (buildId: string) => `stage-${buildId}`,
  start: (instanceId: string) => `start-${instanceId}`,
  stop: (instanceId: string) => `stop-${instanceId}`,
  runTask: (taskId: string) => `task-${taskId}`,
  stopTask: (taskId: string) => `stop-task-${taskId}`,
  forgetApp: (appId: string) => `forget-app-${appId}`,
};
