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

export const serviceJobId = {
  start: (serviceInstanceId: string) => `start-service-${serviceInstanceId}`,
  delete: (serviceInstanceId: string) => `delete-service-${serviceInstanceId}`,
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
  type: z.enum(['create', 'update', 'delete']),
  state: z.enum(['in progress', 'succeeded', 'failed']),
  /** Why it failed, or what it is doing. */
  description: z.string().nullable(),
  updated_at: z.string(),
});
export type ServiceOperationView = z.infer<typeof serviceOperationViewSchema>;

export const serviceInstanceViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  offering: z.string(),
  plan: z.string(),
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
