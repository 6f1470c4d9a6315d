import { z } from 'zod';

/**
 * Backing services (issue 15): the built-in marketplace, the cell jobs that run a service
 * instance's server, what a cell reports of it, and what an app's containers are given of the
 * instances bound to it. See docs/services.md.
 */

/** The servers the platform runs itself, from the host's packages (the stack's /usr). */
export const serviceKindSchema = z.enum(['postgresql', 'redis']);
export type ServiceKind = z.infer<typeof serviceKindSchema>;

export interface ServicePlan {
  name: string;
  description: string;
  /** Memory limit of the server's container. */
  memoryMb: number;
  /** Size of its persistent volume (where the data lives); writes beyond it fail (ENOSPC). */
  diskMb: number;
  free: boolean;
}

export interface ServiceOffering {
  /** The offering's name, also the label under which VCAP_SERVICES lists its bindings. */
  name: ServiceKind;
  description: string;
  /** VCAP_SERVICES tags of every binding. */
  tags: string[];
  /** Major version of the server the cells run (the host's package). */
  version: string;
  /** The Heroku-style variable the first binding of this kind sets (DATABASE_URL, REDIS_URL). */
  urlVariable: string;
  plans: ServicePlan[];
}

/** The built-in marketplace. Plans are ordered smallest first. */
export const BUILTIN_OFFERINGS: readonly ServiceOffering[] = [
  {
    name: 'postgresql',
    description: 'PostgreSQL, a relational database, on a persistent volume',
    tags: ['postgresql', 'relational', 'sql'],
    version: '15',
    urlVariable: 'DATABASE_URL',
    plans: [
      { name: 'small', description: '256 MB memory, 1 GB disk', memoryMb: 256, diskMb: 1024, free: true },
      { name: 'medium', description: '1 GB memory, 10 GB disk', memoryMb: 1024, diskMb: 10240, free: false },
    ],
  },
  {
    name: 'redis',
    description: 'Redis, an in-memory key-value store, persisted (AOF) on a volume',
    tags: ['redis', 'key-value'],
    version: '7',
    urlVariable: 'REDIS_URL',
    plans: [
      { name: 'small', description: '256 MB memory, 1 GB disk', memoryMb: 256, diskMb: 1024, free: true },
      { name: 'medium', description: '1 GB memory, 10 GB disk', memoryMb: 1024, diskMb: 10240, free: false },
    ],
  },
];

/** The port the server listens on inside its container. */
export const SERVICE_CONTAINER_PORT: Record<ServiceKind, number> = { postgresql: 5432, redis: 6379 };

/** Service instance ids (and binding ids) are the controller's UUIDs; cells use them in paths and container ids. */
const serviceIdSchema = z.string().regex(/^[a-f0-9-]{8,36}$/);

/**
 * Runs (or keeps running) one service instance's server on the cell the instance is placed on,
 * for good: the cell keeps the job in its own registry (its data dir) and starts the server again
 * after its own restart, the host's, or a crash (with backoff). The first start creates the volume
 * (a loop-mounted ext4 image of diskMb) and initialises the server with the admin credentials
 * (postgres: initdb with superuser `adminUser`; redis: an ACL file with `adminUser` alone, the
 * default user off). The same job again (after Redis lost its state) changes nothing.
 */
export const startServiceJobSchema = z.object({
  serviceInstanceId: serviceIdSchema,
  kind: serviceKindSchema,
  memoryMb: z.number().int().positive(),
  diskMb: z.number().int().positive(),
  adminUser: z.string().regex(/^[a-z][a-z0-9_]{0,30}$/),
  adminPassword: z.string().regex(/^[A-Za-z0-9]{16,64}$/),
  /** The space it belongs to (labels, logs). */
  spaceId: z.string(),
});
export type StartServiceJob = z.infer<typeof startServiceJobSchema>;

/** Stops the server and removes its container, volume and registry entry for good. Safe to repeat. */
export const deleteServiceJobSchema = z.object({ serviceInstanceId: serviceIdSchema });
export type DeleteServiceJob = z.infer<typeof deleteServiceJobSchema>;

/**
 * Resizes a running instance to a new plan (update-service, `paas update-service NAME -p PLAN`):
 * the cell grows its volume to diskMb (the ext4 image and its filesystem; a smaller diskMb than
 * the volume has fails the job and changes nothing), records the new sizes in its registry and
 * starts the server again with memoryMb. The data stays. Its report then carries the new sizes
 * (ServiceState.memoryMb/diskMb), which is how the controller sees the update done.
 */
export const updateServiceJobSchema = z.object({
  serviceInstanceId: serviceIdSchema,
  memoryMb: z.number().int().positive(),
  diskMb: z.number().int().positive(),
});
export type UpdateServiceJob = z.infer<typeof updateServiceJobSchema>;

/**
 * Restores a Redis instance from a backup (an RDB snapshot in the blobstore, `backupUrl` under
 * /internal/v1/blobs/backups/, fetched with the cell's internal token): the cell downloads it,
 * checks its size and sha256, stops the server, puts the snapshot in place as the base of a fresh
 * append-only file (appendonlydir with a manifest naming it) and starts the server again. The old
 * data is kept aside until the server runs on the restored one, and put back when it does not
 * (the job fails with why). Postgres restores need no cell: the controller runs pg_restore as the
 * instance's admin.
 */
export const restoreServiceJobSchema = z.object({
  serviceInstanceId: serviceIdSchema,
  backupId: serviceIdSchema,
  backupUrl: z.string(),
  sha256: z.string().regex(/^[a-f0-9]{64}$/),
  sizeBytes: z.number().int().nonnegative(),
});
export type RestoreServiceJob = z.infer<typeof restoreServiceJobSchema>;

export const serviceJobId = {
  start: (serviceInstanceId: string) => `start-service-${serviceInstanceId}`,
  delete: (serviceInstanceId: string) => `delete-service-${serviceInstanceId}`,
  /** One per update: `operation` is the instance's operation time (ms), so a second update of the same instance is a job of its own. */
  update: (serviceInstanceId: string, operation: number) => `update-service-${serviceInstanceId}-${operation}`,
  restore: (serviceInstanceId: string, backupId: string) => `restore-service-${serviceInstanceId}-${backupId}`,
};

/**
 * What the cell running a service instance reports of it (Redis `redisKeys.serviceState`, a
 * TTL it refreshes every few seconds; see libs/redis service-states.ts).
 * - starting: the volume is being made or the server is not yet accepting connections;
 * - running: the server accepts TCP connections on its endpoint;
 * - crashed: the server exited; the cell starts it again after a backoff (`error` says how it ended);
 * - failed: it cannot run at all (the volume could not be made, initdb failed); `error` says why.
 */
export const serviceStateSchema = z.object({
  serviceInstanceId: z.string(),
  cellId: z.string(),
  state: z.enum(['starting', 'running', 'crashed', 'failed']),
  /** Where apps and the controller reach the server: the cell's address and the service's host port (kept across restarts). */
  host: z.string(),
  port: z.number().int().positive(),
  error: z.string().optional(),
  /** Bytes used on its volume, when known. */
  diskUsedBytes: z.number().int().nonnegative().optional(),
  memoryBytes: z.number().int().nonnegative().optional(),
  /** Client connections open to the server (established TCP sockets on its port), when it runs. */
  connections: z.number().int().nonnegative().optional(),
  /** The sizes the server runs with now (its registry's job): an update-service is done once they are the plan's. */
  memoryMb: z.number().int().positive().optional(),
  diskMb: z.number().int().positive().optional(),
  /** ISO time of the report. */
  at: z.string(),
});
export type ServiceState = z.infer<typeof serviceStateSchema>;

/**
 * One service bound to an app, as its containers are given it (start-instance and run-task jobs).
 * `credentials.host` and `credentials.uri` name the cell's address; a cell whose containers reach
 * that address otherwise (a loopback one: at their bridge gateway) rewrites both. The cell lets
 * the container reach `endpoint` and nothing else of the instance.
 */
export const boundServiceSchema = z.object({
  /** VCAP_SERVICES key: the offering's name (or "user-provided"). */
  label: z.string(),
  /** The instance's name. */
  name: z.string(),
  plan: z.string(),
  tags: z.array(z.string()),
  instanceId: z.string(),
  bindingId: z.string(),
  /** The Heroku-style variable it sets when it is the first binding of its kind (DATABASE_URL, REDIS_URL). */
  urlVariable: z.string().optional(),
  credentials: z.record(z.string(), z.union([z.string(), z.number()])),
  /** The server's endpoint (cell address and host port); absent for user-provided services. */
  endpoint: z.object({ host: z.string(), port: z.number().int().positive() }).optional(),
});
export type BoundService = z.infer<typeof boundServiceSchema>;

// ---- The API's views (controller builds them, the CLI and dashboard read them) ----

export const servicePlanViewSchema = z.object({
  name: z.string(),
  offering: z.string(),
  description: z.string(),
  memory_mb: z.number().int(),
  disk_mb: z.number().int(),
  free: z.boolean(),
});
export type ServicePlanView = z.infer<typeof servicePlanViewSchema>;

export const serviceOfferingViewSchema = z.object({
  name: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  version: z.string(),
  /** "built-in" for the platform's own (a broker's name once brokers exist). */
  broker: z.string(),
  plans: z.array(servicePlanViewSchema),
});
export type ServiceOfferingView = z.infer<typeof serviceOfferingViewSchema>;

/** Cloud Foundry's last_operation: what was last asked of the instance and how it went. */
export const serviceOperationViewSchema = z.object({
  /** restore: a backup is being restored into it (`paas restore`). */
  type: z.enum(['create', 'update', 'delete', 'restore']),
  state: z.enum(['in progress', 'succeeded', 'failed']),
  /** Why it failed, or what it is doing. */
  description: z.string().nullable(),
  updated_at: z.string(),
});
export type ServiceOperationView = z.infer<typeof serviceOperationViewSchema>;

/** managed: a built-in offering's server, run by a cell; user-provided: credentials the user gave (`cf cups`); brokered: provisioned by an Open Service Broker. */
export const serviceInstanceTypeSchema = z.enum(['managed', 'user-provided', 'brokered']);
export type ServiceInstanceType = z.infer<typeof serviceInstanceTypeSchema>;

/** What a managed instance's cell last reported of its usage; limits from its plan. */
export const serviceUsageViewSchema = z.object({
  memory_bytes: z.number().int().nullable(),
  memory_limit_bytes: z.number().int(),
  disk_used_bytes: z.number().int().nullable(),
  disk_limit_bytes: z.number().int(),
  connections: z.number().int().nullable(),
  /** ISO time of the cell's report. */
  reported_at: z.string(),
});
export type ServiceUsageView = z.infer<typeof serviceUsageViewSchema>;

export const serviceInstanceViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: serviceInstanceTypeSchema,
  /** The offering's name; "user-provided" for a user-provided instance. */
  offering: z.string(),
  /** The plan's name; "" for a user-provided instance. */
  plan: z.string(),
  /** "built-in", a broker's name, or null (user-provided). */
  broker: z.string().nullable(),
  /** User-provided: its tags; otherwise the offering's. */
  tags: z.array(z.string()),
  /** Managed: how many scheduled backups are kept (older ones are deleted); null otherwise. */
  backup_retention: z.number().int().nullable(),
  /** Managed and running: memory, disk and connections as its cell reports them; null otherwise. */
  usage: serviceUsageViewSchema.nullable(),
  /** A broker's dashboard for the instance, when it gave one. */
  dashboard_url: z.string().nullable(),
  space_id: z.string(),
  space_name: z.string(),
  org_name: z.string(),
  last_operation: serviceOperationViewSchema,
  /**
   * How its server stands now (once created): `available` (its cell reports it accepting
   * connections), `starting`, `crashed` (its cell restarts it), `unavailable` (its cell is lost or
   * has not reported it: the data stays on that cell's volume; nothing recreates it elsewhere).
   * null while it is being created or deleted.
   */
  status: z.enum(['available', 'starting', 'crashed', 'unavailable']).nullable(),
  /** What is wrong when not available (the cell's last error, "cell c1 is lost"). */
  status_reason: z.string().nullable(),
  cell_id: z.string().nullable(),
  /** Names of the apps bound to it. */
  bound_apps: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type ServiceInstanceView = z.infer<typeof serviceInstanceViewSchema>;

export const serviceBindingViewSchema = z.object({
  id: z.string(),
  app_id: z.string(),
  app_name: z.string(),
  service_instance_id: z.string(),
  service_instance_name: z.string(),
  /** The offering's name (the VCAP_SERVICES label). */
  offering: z.string(),
  created_at: z.string(),
});
export type ServiceBindingView = z.infer<typeof serviceBindingViewSchema>;

/** A backup of a managed instance: a pg_dump (custom format) or an RDB snapshot, in the blobstore. */
export const serviceBackupViewSchema = z.object({
  id: z.string(),
  service_instance_id: z.string(),
  service_instance_name: z.string(),
  /** scheduled (the daily pass) or manual (`paas backup`). */
  trigger: z.enum(['scheduled', 'manual']),
  state: z.enum(['in progress', 'succeeded', 'failed']),
  /** pg_dump | rdb */
  format: z.enum(['pg_dump', 'rdb']),
  size_bytes: z.number().int().nullable(),
  sha256: z.string().nullable(),
  duration_ms: z.number().int().nullable(),
  /** Why it failed. */
  error: z.string().nullable(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
});
export type ServiceBackupView = z.infer<typeof serviceBackupViewSchema>;

/** Credentials for use outside the platform (an operator's psql), a login of their own as a binding has. */
export const serviceKeyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  service_instance_id: z.string(),
  service_instance_name: z.string(),
  /** Only in the answer to create and to GET of one key (`paas service-key`), never in lists. */
  credentials: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  created_at: z.string(),
});
export type ServiceKeyView = z.infer<typeof serviceKeyViewSchema>;

/** An Open Service Broker (v2.17) registered by a platform admin; its catalog's offerings join the marketplace. */
export const serviceBrokerViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  username: z.string(),
  /** The names of the offerings of its last fetched catalog. */
  offerings: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type ServiceBrokerView = z.infer<typeof serviceBrokerViewSchema>;
