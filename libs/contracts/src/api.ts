import { z } from 'zod';
import { domainVerificationViewSchema } from './tls';

/**
 * Response shapes of the controller's REST API that its clients (the CLI, the dashboard) read.
 * The controller builds them (its views are typed from these), clients validate what they get.
 */
export const appViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(['STARTED', 'STOPPED']),
  space_id: z.string(),
  space_name: z.string(),
  org_name: z.string(),
  current_release_id: z.string().nullable(),
  url: z.string(),
  git_url: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type AppView = z.infer<typeof appViewSchema>;

/** An instance's usage as the API shows it (see docs/metrics.md for how each is measured). */
export const instanceUsageViewSchema = z.object({
  /** % of one core over the cell's last sampling interval; above 100 when it uses several cores. */
  cpu_percent: z.number(),
  /** Bytes of memory in use (cgroup usage minus inactive file cache). */
  memory_bytes: z.number(),
  /** Bytes used on its writable layer. */
  disk_bytes: z.number(),
  /** ISO time of the sample. */
  measured_at: z.string(),
});
export type InstanceUsageView = z.infer<typeof instanceUsageViewSchema>;

/**
 * STOPPING: its cell is stopping it (scale down, app stopped, replaced by a deploy, cell
 * draining): routes withdrawn, the process in its grace period. It is not running any more.
 */
export const instanceViewStateSchema = z.enum(['STARTING', 'RUNNING', 'STOPPING', 'CRASHED', 'DOWN', 'UNPLACED']);
export type InstanceViewState = z.infer<typeof instanceViewStateSchema>;

export const instanceViewSchema = z.object({
  index: z.number().int(),
  instance_id: z.string(),
  process_type: z.string(),
  state: instanceViewStateSchema,
  cell_id: z.string(),
  address: z.string().nullable(),
  release_id: z.string(),
  /** The version of its release; null when unplaced or the release is gone. */
  release_version: z.number().int().nullable(),
  /** Why it is STOPPING ("scaled down", "replaced by v4", ...); null in other states. */
  stop_reason: z.string().nullable(),
  uptime_s: z.number(),
  since: z.string(),
  crash_count: z.number().int(),
  last_crash_reason: z.string().nullable(),
  unplaced_reason: z.string().nullable(),
  /** The memory limit its container runs with (UNPLACED: the process's); null when unknown. */
  memory_limit_mb: z.number().nullable(),
  /** The disk limit of its writable layer (UNPLACED: the process's); null when unknown. */
  disk_limit_mb: z.number().nullable(),
  /** The latest sample of its cell (every few seconds); null until the first one, and unless STARTING or RUNNING. */
  usage: instanceUsageViewSchema.nullable(),
});
export type InstanceView = z.infer<typeof instanceViewSchema>;

const link = z.object({ href: z.string() });
export const paginationSchema = z.object({
  total_results: z.number().int(),
  total_pages: z.number().int(),
  first: link,
  last: link,
  next: link.nullable(),
  previous: link.nullable(),
});

export function paginatedSchema<T extends z.ZodType>(item: T) {
  return z.object({ pagination: paginationSchema, resources: z.array(item) });
}

/**
 * How the instances of one process type stand: `running` counts RUNNING ones alone (never
 * STOPPING ones of a release being replaced), against `desired`.
 */
export const instanceCountsSchema = z.object({
  process_type: z.string(),
  desired: z.number().int(),
  running: z.number().int(),
  starting: z.number().int(),
  stopping: z.number().int(),
  crashed: z.number().int(),
  unplaced: z.number().int(),
});
export type InstanceCounts = z.infer<typeof instanceCountsSchema>;

export const instanceListSchema = z.object({
  resources: z.array(instanceViewSchema),
  /** One entry per process type (of the app's processes, then any other type an instance has). */
  summary: z.array(instanceCountsSchema),
});
export type InstanceList = z.infer<typeof instanceListSchema>;

/** Counts instances by process type against the desired scale (see instanceCountsSchema). */
export function countInstances(instances: ReadonlyArray<Pick<InstanceView, 'process_type' | 'state'>>, desired: ReadonlyMap<string, number>): InstanceCounts[] {
  const byType = new Map<string, InstanceCounts>();
  const entry = (type: string) => {
    let found = byType.get(type);
    if (!found) {
      found = { process_type: type, desired: desired.get(type) ?? 0, running: 0, starting: 0, stopping: 0, crashed: 0, unplaced: 0 };
      byType.set(type, found);
    }
    return found;
  };
  for (const type of desired.keys()) entry(type);
  for (const i of instances) {
    const counts = entry(i.process_type);
    if (i.state === 'RUNNING') counts.running++;
    else if (i.state === 'STARTING') counts.starting++;
    else if (i.state === 'STOPPING') counts.stopping++;
    else if (i.state === 'CRASHED') counts.crashed++;
    else if (i.state === 'UNPLACED') counts.unplaced++;
  }
  return [...byType.values()];
}

/** "3/3 running", "3/3 running (+3 stopping)", "1/3 running (+2 starting, 1 crashed)": what the CLI and the dashboard print. */
export function describeCounts(counts: InstanceCounts): string {
  const extra = [
    counts.starting ? `${counts.starting} starting` : '',
    counts.stopping ? `${counts.stopping} stopping` : '',
    counts.crashed ? `${counts.crashed} crashed` : '',
    counts.unplaced ? `${counts.unplaced} not placed` : '',
  ].filter(Boolean);
  return `${counts.running}/${counts.desired} running${extra.length ? ` (+${extra.join(', ')})` : ''}`;
}

// ---- Views the dashboard reads (and any other client may): one schema per answer of the API. ----

/** A process type of an app and its scale (GET /v1/apps/:app/processes). */
export const processViewSchema = z.object({
  id: z.string(),
  type: z.string(),
  instances: z.number().int(),
  memory_mb: z.number().int(),
  disk_mb: z.number().int(),
  /** CPU quota in millicores (500 = half a core); null: no quota, only shares. */
  cpu_millicores: z.number().int().nullable(),
  command: z.string().nullable(),
  health_check: z.object({ type: z.string(), endpoint: z.string().nullable(), timeout: z.number().nullable() }),
  created_at: z.string(),
  updated_at: z.string(),
});
export type ProcessView = z.infer<typeof processViewSchema>;
export const processListSchema = z.object({ resources: z.array(processViewSchema) });

/** What a change that may roll out a release answers (env, scale, start/stop/restart, rollback). */
export const changeResultSchema = z.object({
  release_version: z.number().int().nullable(),
  deployment_id: z.string().nullable(),
});
export type ChangeResult = z.infer<typeof changeResultSchema>;

/** An app's own environment variables (GET /v1/apps/:app/env). */
export const envViewSchema = z.object({ var: z.record(z.string(), z.string()) });

export const buildViewSchema = z.object({
  id: z.string(),
  state: z.enum(['STAGING', 'STAGED', 'FAILED']),
  commit_sha: z.string(),
  buildpack: z.string().nullable(),
  error: z.string().nullable(),
  cell_id: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type BuildView = z.infer<typeof buildViewSchema>;

/** GET /v1/apps/:app/builds/:id/log?format=json */
export const buildLogViewSchema = z.object({
  build_id: z.string(),
  state: z.string(),
  complete: z.boolean(),
  dropped_lines: z.number().int(),
  last_seq: z.number().int(),
  lines: z.array(z.object({ seq: z.number().int(), text: z.string(), time: z.string() })),
});
export type BuildLogView = z.infer<typeof buildLogViewSchema>;

export const releaseViewSchema = z.object({
  id: z.string(),
  version: z.number().int(),
  description: z.string(),
  droplet_id: z.string(),
  build_id: z.string().nullable(),
  buildpack: z.string().nullable(),
  droplet_pruned: z.boolean(),
  process_types: z.record(z.string(), z.string()),
  env_names: z.array(z.string()),
  current: z.boolean(),
  created_at: z.string(),
});
export type ReleaseView = z.infer<typeof releaseViewSchema>;

export const deploymentViewSchema = z.object({
  id: z.string(),
  release_id: z.string(),
  state: z.enum(['DEPLOYING', 'DEPLOYED', 'FAILED', 'CANCELED']),
  reason: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type DeploymentView = z.infer<typeof deploymentViewSchema>;

export const destinationViewSchema = z.object({
  id: z.string(),
  app: z.object({ id: z.string(), name: z.string() }),
  process_type: z.string(),
  port: z.number().int(),
  weight: z.number().int().nullable(),
  created_at: z.string(),
});
export type DestinationView = z.infer<typeof destinationViewSchema>;

export const routeViewSchema = z.object({
  id: z.string(),
  host: z.string(),
  path: z.string(),
  /** host.domain + path, as clients reach it through the router (no scheme, no port). */
  url: z.string(),
  domain: z.object({ id: z.string(), name: z.string() }),
  space_id: z.string(),
  destinations: z.array(destinationViewSchema),
  /** Plain-HTTP requests get a 308 to https. */
  https_redirect: z.boolean(),
  /** Strict-Transport-Security max-age (seconds) on HTTPS responses; null: none. */
  hsts_max_age: z.number().int().nullable(),
  created_at: z.string(),
});
export type RouteView = z.infer<typeof routeViewSchema>;

/** GET|POST|PATCH /v1/routes/:id/destinations */
export const routeDestinationsViewSchema = z.object({ route_id: z.string(), destinations: z.array(destinationViewSchema) });

export const domainViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  shared: z.boolean(),
  default: z.boolean(),
  org_id: z.string().nullable(),
  /** Shared domains and the ones a platform admin added are verified from the start. */
  verification: domainVerificationViewSchema,
  created_at: z.string(),
});
export type DomainView = z.infer<typeof domainViewSchema>;

export const orgViewSchema = z.object({ id: z.string(), name: z.string(), created_at: z.string() });
export type OrgView = z.infer<typeof orgViewSchema>;

export const spaceViewSchema = z.object({ id: z.string(), name: z.string(), org_id: z.string(), org_name: z.string(), created_at: z.string() });
export type SpaceView = z.infer<typeof spaceViewSchema>;

/** GET /v1/users/me: who the token belongs to and its roles. */
export const meViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  is_admin: z.boolean(),
  created_at: z.string(),
  roles: z.array(z.object({ space_id: z.string(), space_name: z.string(), org_id: z.string(), org_name: z.string(), role: z.string() })),
});
export type MeView = z.infer<typeof meViewSchema>;

/** One entry of the audit log (GET /v1/events). */
export const eventViewSchema = z.object({
  id: z.string(),
  type: z.string(),
  actor: z.object({ id: z.string().nullable(), name: z.string() }),
  target: z.object({ type: z.string(), id: z.string(), name: z.string() }),
  space_id: z.string().nullable(),
  data: z.unknown(),
  created_at: z.string(),
});
export type EventView = z.infer<typeof eventViewSchema>;

/** A live cell (GET /v1/cells). Disk figures are optional: cells that do not measure their disk leave them out. */
export const cellViewSchema = z.object({
  id: z.string(),
  address: z.string(),
  zone: z.string(),
  started_at: z.string(),
  state: z.enum(['live', 'draining']),
  capacity: z.object({ memory_mb: z.number(), max_containers: z.number().int(), disk_mb: z.number().optional() }),
  used_memory_mb: z.number(),
  instances: z.object({
    total: z.number().int(),
    starting: z.number().int(),
    running: z.number().int(),
    stopping: z.number().int(),
    crashed: z.number().int(),
    stopped: z.number().int(),
  }),
  reported_instances: z.number().int(),
  allocated_memory_mb: z.number(),
  allocated_disk_mb: z.number().optional(),
  apps: z.array(z.object({ id: z.string(), name: z.string(), instances: z.number().int() })),
});
export type CellView = z.infer<typeof cellViewSchema>;

// ---- Answers of the changes the CLI makes (besides the views above). ----

/** POST /v1/apps/:app/processes/:type/actions/scale: the process after the change, and the release a memory, disk or cpu change made. */
export const scaleResultSchema = processViewSchema.extend(changeResultSchema.shape);
export type ScaleResult = z.infer<typeof scaleResultSchema>;

export type EnvView = z.infer<typeof envViewSchema>;
/** PATCH /v1/apps/:app/env: the variables after the change, and the release it made. */
export const envChangeSchema = envViewSchema.extend(changeResultSchema.shape);
export type EnvChange = z.infer<typeof envChangeSchema>;

export const userViewSchema = z.object({ id: z.string(), name: z.string(), is_admin: z.boolean(), created_at: z.string() });
export type UserView = z.infer<typeof userViewSchema>;
