import { BUILTIN_OFFERINGS, type ServiceBindingView, type ServiceInstanceView, type ServiceState, type ServiceUsageView } from '@paas/contracts';
import type { ServiceInstanceRecord } from './service-instances.repository';
import type { ServiceBindingRecord } from './service-bindings.repository';

/**
 * Has the instance a server of its own now: its create succeeded and it is not being deleted
 * (a restore or resize since, done or not, leaves it so). Pure.
 */
export function isProvisioned(instance: Pick<ServiceInstanceRecord, 'operationType' | 'operationState'>): boolean {
  if (instance.operationType === 'delete') return false;
  return instance.operationType !== 'create' || instance.operationState === 'succeeded';
}

/** How an instance's server stands now, from its cell's report and the cell's presence. Pure. */
export interface ServiceStatus {
  status: ServiceInstanceView['status'];
  status_reason: string | null;
}

/**
 * A created instance is `available` when its cell reports it running, `starting` or `crashed` as
 * reported (the cell restarts a crashed server), `unavailable` when the cell reports it failed,
 * when the cell is lost (the data stays on its volume: nothing recreates it elsewhere), or when a
 * live cell has not reported it. Null while it is being created or deleted, or when its create failed.
 */
export function serviceStatus(instance: Pick<ServiceInstanceRecord, 'operationType' | 'operationState' | 'cellId'>, report: ServiceState | undefined, cellLive: boolean): ServiceStatus {
  if (!isProvisioned(instance) || !instance.cellId) return { status: null, status_reason: null };
  if (!cellLive) return { status: 'unavailable', status_reason: `cell ${instance.cellId} is lost: its data stays on its volume` };
  if (!report) return { status: 'unavailable', status_reason: `cell ${instance.cellId} has not reported it lately (the cell is told to start it again)` };
  switch (report.state) {
    case 'running':
      return { status: 'available', status_reason: null };
    case 'starting':
      return { status: 'starting', status_reason: report.error ?? null };
    case 'crashed':
      return { status: 'crashed', status_reason: report.error ? `${report.error} (the cell starts it again)` : 'the server exited (the cell starts it again)' };
    case 'failed':
      return { status: 'unavailable', status_reason: report.error ?? 'the cell cannot run it' };
  }
}

const MiB = 1024 * 1024;

/**
 * A managed instance's usage as its cell last reported it while the server runs (memory, volume
 * and connections; null where the cell did not measure), against its plan's limits (the record's
 * memory and disk). Null when it is not managed, not placed, or its server does not run (no
 * report, or one that is not `running`). Pure.
 */
export function serviceUsage(instance: Pick<ServiceInstanceRecord, 'type' | 'cellId' | 'memoryMb' | 'diskMb'>, report: ServiceState | undefined): ServiceUsageView | null {
  if (instance.type !== 'managed' || !instance.cellId || report?.state !== 'running' || report.cellId !== instance.cellId) return null;
  return {
    memory_bytes: report.memoryBytes ?? null,
    memory_limit_bytes: instance.memoryMb * MiB,
    disk_used_bytes: report.diskUsedBytes ?? null,
    disk_limit_bytes: instance.diskMb * MiB,
    connections: report.connections ?? null,
    reported_at: report.at,
  };
}

export function serviceInstanceView(instance: ServiceInstanceRecord, status: ServiceStatus, usage: ServiceUsageView | null = null): ServiceInstanceView {
  return {
    id: instance.id,
    name: instance.name,
    type: instance.type as ServiceInstanceView['type'],
    offering: instance.offering,
    plan: instance.plan,
    broker: instance.type === 'managed' ? 'built-in' : null,
    tags: instance.tags.length ? instance.tags : [...(BUILTIN_OFFERINGS.find((o) => o.name === instance.offering)?.tags ?? [])],
    backup_retention: instance.type === 'managed' ? instance.backupRetention : null,
    usage,
    dashboard_url: instance.dashboardUrl,
    space_id: instance.spaceId,
    space_name: instance.space.name,
    org_name: instance.space.org.name,
    last_operation: {
      type: instance.operationType as ServiceInstanceView['last_operation']['type'],
      state: instance.operationState as ServiceInstanceView['last_operation']['state'],
      description: instance.operationDescription,
      updated_at: instance.operationUpdatedAt.toISOString(),
    },
    status: status.status,
    status_reason: status.status_reason,
    cell_id: instance.cellId,
    bound_apps: instance.bindings.map((b) => b.app.name),
    created_at: instance.createdAt.toISOString(),
    updated_at: instance.updatedAt.toISOString(),
  };
}

export function serviceBindingView(binding: ServiceBindingRecord): ServiceBindingView {
  return {
    id: binding.id,
    app_id: binding.appId,
    app_name: binding.app.name,
    service_instance_id: binding.serviceInstanceId,
    service_instance_name: binding.serviceInstance.name,
    offering: binding.serviceInstance.offering,
    created_at: binding.createdAt.toISOString(),
  };
}
