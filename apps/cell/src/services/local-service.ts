import type { ServiceState } from '@paas/contracts';
import type { ContainerHandle, ContainerRuntime, IdMapping } from '@paas/runtime';
import type { ServiceProbes } from './service-probes';
import type { ServiceRecord } from './service-registry';
import type { ServiceVolumes } from './service-volumes';

export interface ServiceManagerConfig {
  cellId: string;
  /** CELL_ADDRESS: where the controller and apps reach the host ports (the reports' host). */
  address: string;
  containerPrefix: string;
  /** The registry, the logs and (for LoopVolumes) the volumes live here. */
  servicesDir: string;
  servicePortRange: [number, number];
  idMapping: IdMapping;
  /** How long a server may take to accept connections before it counts as crashed. */
  startTimeoutMs: number;
}

/** What the manager needs of its host besides the runtime: the volumes, and whether a server's binary is there. */
export interface ServiceHost {
  runtime: ContainerRuntime;
  volumes: ServiceVolumes;
  serverInstalled(binary: string): Promise<boolean>;
  probes: ServiceProbes;
  /** The blobstore (restore-service downloads its backup with the cell's internal token). */
  blobs: { download(url: string, file: string, options: { maxBytes?: number; mode?: number }): Promise<void> };
}

/** One instance as the manager follows it (its registry record and its server's state); the manager's own. */
export interface LocalService {
  record: ServiceRecord;
  containerId: string;
  state: ServiceState['state'];
  error?: string;
  /** The server's container while it runs (or starts). */
  handle?: ContainerHandle;
  /** Crashes in a row, for the backoff. */
  crashes: number;
  runningSince?: number;
  restartTimer?: NodeJS.Timeout;
  /** The start in progress. */
  launching?: Promise<void>;
  /** Deleted, or the agent stops: nothing restarts or reports it any more. */
  ended: boolean;
  /** The crash being handled (its report, its container's removal). */
  crashing?: Promise<void>;
  /** An update or restore holds the server: a crash meanwhile is not restarted (the operation starts it). */
  held: boolean;
  /** The update or restore in progress (they run one at a time). */
  operation?: Promise<unknown>;
  memoryBytes?: number;
  diskUsedBytes?: number;
  connections?: number;
}

/** What the cell reports of the instance now: its state, endpoint, sizes (the registry's) and, while it runs, its usage. Pure. */
export function reportOf(local: LocalService, config: Pick<ServiceManagerConfig, 'cellId' | 'address'>): ServiceState {
  return {
    serviceInstanceId: local.record.job.serviceInstanceId,
    cellId: config.cellId,
    state: local.state,
    host: config.address,
    port: local.record.hostPort,
    ...(local.error !== undefined ? { error: local.error } : {}),
    ...(local.diskUsedBytes !== undefined ? { diskUsedBytes: local.diskUsedBytes } : {}),
    ...(local.memoryBytes !== undefined ? { memoryBytes: local.memoryBytes } : {}),
    ...(local.connections !== undefined ? { connections: local.connections } : {}),
    memoryMb: local.record.job.memoryMb,
    diskMb: local.record.job.diskMb,
    at: new Date().toISOString(),
  };
}

/** The registered instance `id` of `services` (update and restore need one). */
export function knownService(services: ReadonlyMap<string, LocalService>, id: string, cellId: string): LocalService {
  const local = services.get(id);
  if (!local || local.ended) throw new Error(`service instance ${id} is not on cell ${cellId} (its registry has no such instance): start it there first`);
  return local;
}

/**
 * Runs `fn` (an update or a restore) after the one in progress, holding the server: its crashes
 * meanwhile are not restarted. After it, a server it left crashed goes to `restartLater` (the backoff).
 */
export function exclusively<T>(local: LocalService, restartLater: (local: LocalService) => void, fn: () => Promise<T>): Promise<T> {
  const run = (local.operation ?? Promise.resolve())
    .catch(() => undefined)
    .then(async () => {
      if (local.ended) throw new Error(`service instance ${local.record.job.serviceInstanceId} is being deleted`);
      local.held = true;
      try {
        return await fn();
      } finally {
        local.held = false;
        if (!local.ended && local.state === 'crashed' && !local.handle && !local.launching) restartLater(local);
      }
    });
  local.operation = run;
  return run;
}
