import type { ActualInstance, InstanceExit, InstanceState, InstanceUsage, StartInstanceJob } from '@paas/contracts';
import type { ContainerHandle, ContainerStatus } from '@paas/runtime';

/** What the instance manager knows of one instance of its cell (see InstanceManager). */
export interface LocalInstance {
  job: StartInstanceJob;
  containerId: string;
  state: InstanceState;
  handle?: ContainerHandle;
  since: string;
  /** Why it crashed, or why it is stopping. */
  reason?: string;
  /** How its process ended, once it crashed by an exit. */
  exit?: InstanceExit;
  crashCount?: number;
  /** Consecutive failed liveness checks. */
  failedChecks?: number;
  /** The newest usage sample (UsageSampler), reported with the instance while it runs. */
  usage?: InstanceUsage;
  /** From when its container exists: settles once the container no longer runs (ContainerRuntime.wait). */
  ended?: Promise<void>;
  /** Set when `ended` settled: the container's last status (undefined: it was gone). */
  exited?: { status: ContainerStatus | undefined };
}

/** One instance as the cell's metrics show it. */
export interface InstanceSnapshot {
  instanceId: string;
  appId: string;
  appName: string;
  processType: string;
  index: number;
  state: InstanceState;
  memoryMb: number;
  diskMb: number;
  /** Its CPU quota in millicores; undefined: none. */
  cpuMillicores?: number;
}

export function snapshotOf(i: LocalInstance): InstanceSnapshot {
  return {
    instanceId: i.job.instanceId,
    appId: i.job.appId,
    appName: i.job.appName,
    processType: i.job.processType,
    index: i.job.index,
    state: i.state,
    memoryMb: i.job.memoryMb,
    diskMb: i.job.diskMb,
    ...(i.job.cpuMillicores !== undefined ? { cpuMillicores: i.job.cpuMillicores } : {}),
  };
}

/**
 * The record the cell reports for an instance: usage only while STARTING or RUNNING, the exit only
 * once CRASHED, the reason (why it crashed, or why it is STOPPING) when there is one.
 */
export function actualOf(local: LocalInstance, cell: { id: string; address: string }): ActualInstance {
  return {
    instanceId: local.job.instanceId,
    appId: local.job.appId,
    appName: local.job.appName,
    releaseId: local.job.releaseId,
    processType: local.job.processType,
    index: local.job.index,
    cellId: cell.id,
    crashCount: local.crashCount ?? 0,
    state: local.state,
    since: local.since,
    memoryMb: local.job.memoryMb,
    diskMb: local.job.diskMb,
    ...(local.usage && (local.state === 'STARTING' || local.state === 'RUNNING') ? { usage: local.usage } : {}),
    ...(local.handle?.hostPort ? { address: `${cell.address}:${local.handle.hostPort}` } : {}),
    ...(local.reason ? { reason: local.reason } : {}),
    ...(local.exit && local.state === 'CRASHED' ? { exit: local.exit } : {}),
  };
}
