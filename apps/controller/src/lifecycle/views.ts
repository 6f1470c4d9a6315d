import { countInstances, type ActualInstance, type InstanceList, type InstanceView } from '@paas/contracts';
import type { Process } from '../generated/prisma/client';

export function processView(p: Process) {
  return {
    id: p.id,
    type: p.type,
    instances: p.instances,
    memory_mb: p.memoryMb,
    disk_mb: p.diskMb,
    cpu_millicores: p.cpuMillicores,
    command: p.command,
    health_check: { type: p.healthCheckType.toLowerCase(), endpoint: p.healthCheckEndpoint, timeout: p.healthCheckTimeoutS },
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

export interface InstanceHistory {
  crashes: Map<string, { count: number; reason: string }>;
  unplaced: Map<string, string>;
}

/** Memory and disk limits and the desired count of each process type (what an unplaced instance would get). */
export type ProcessLimits = Map<string, { memoryMb: number; diskMb: number; instances?: number }>;

/**
 * The answer of GET .../instances: the instances (see instancesView) and their counts per process
 * type against the desired scale (`limits`), in which STOPPING ones are not running.
 */
export function instanceListView(
  actual: ActualInstance[],
  history: InstanceHistory,
  options: { processType?: string; limits?: ProcessLimits; releaseVersions?: ReadonlyMap<string, number> } = {},
): InstanceList {
  const resources = instancesView(actual, history, options.processType, options.limits, options.releaseVersions);
  const desired = new Map([...(options.limits ?? new Map())].map(([type, l]) => [type, l.instances ?? 0]));
  return { resources, summary: countInstances(resources, desired) };
}

/**
 * Instances as the API shows them: actual ones with their crash history and release version,
 * then unplaced indexes (their limits from `limits`: they have no container yet).
 */
export function instancesView(
  actual: ActualInstance[],
  history: InstanceHistory,
  processType?: string,
  limits: ProcessLimits = new Map(),
  releaseVersions: ReadonlyMap<string, number> = new Map(),
): InstanceView[] {
  const shown: InstanceView[] = actual
    .filter((i) => !processType || i.processType === processType)
    .map((i) => instanceView(i, history.crashes.get(`${i.processType}:${i.index}`), Date.now(), releaseVersions.get(i.releaseId) ?? null));
  for (const [field, reason] of history.unplaced) {
    const [type, index] = field.split(':');
    if (processType && type !== processType) continue;
    const crash = history.crashes.get(field);
    shown.push({
      index: Number(index),
      instance_id: '',
      process_type: type,
      state: 'UNPLACED',
      cell_id: '',
      address: null,
      release_id: '',
      release_version: null,
      stop_reason: null,
      uptime_s: 0,
      since: '',
      crash_count: crash?.count ?? 0,
      last_crash_reason: crash?.reason ?? null,
      unplaced_reason: reason,
      memory_limit_mb: limits.get(type)?.memoryMb ?? null,
      disk_limit_mb: limits.get(type)?.diskMb ?? null,
      usage: null,
    });
  }
  return shown.sort((a, b) => a.process_type.localeCompare(b.process_type) || a.index - b.index);
}

/**
 * One actual instance, with the crash history of its index (kept across restarts by the
 * convergence loop). Limits and usage are what its cell reported; usage only while the instance
 * is STARTING or RUNNING (a stopping, crashed or stopped one is not measured). A STOPPING
 * instance's reason is why it stops, not a crash.
 */
export function instanceView(i: ActualInstance, crash?: { count: number; reason: string }, now = Date.now(), releaseVersion: number | null = null): InstanceView {
  const stopping = i.state === 'STOPPING';
  return {
    index: i.index,
    instance_id: i.instanceId,
    process_type: i.processType,
    state: i.state === 'STOPPED' ? 'DOWN' : i.state,
    cell_id: i.cellId,
    address: i.address ?? null,
    release_id: i.releaseId,
    release_version: releaseVersion,
    stop_reason: stopping ? (i.reason ?? null) : null,
    uptime_s: i.state === 'RUNNING' ? Math.max(0, Math.round((now - Date.parse(i.since)) / 1000)) : 0,
    since: i.since,
    crash_count: Math.max(i.crashCount ?? 0, crash?.count ?? 0),
    last_crash_reason: (stopping ? undefined : i.reason) ?? crash?.reason ?? null,
    unplaced_reason: null,
    memory_limit_mb: i.memoryMb ?? null,
    disk_limit_mb: i.diskMb ?? null,
    usage:
      i.usage && (i.state === 'STARTING' || i.state === 'RUNNING')
        ? { cpu_percent: i.usage.cpuPercent, memory_bytes: i.usage.memoryBytes, disk_bytes: i.usage.diskBytes, measured_at: i.usage.measuredAt }
        : null,
  };
}
