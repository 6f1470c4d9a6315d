import type { Logger } from 'pino';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { startAdminServer, type AdminServer } from '@paas/admin-http';
import { instanceStateSchema } from '@paas/contracts';
import type { InstanceSnapshot } from './instance-manager';
import type { LatestSample } from './usage-sampler';

const MiB = 1024 * 1024;

/** What the cell's gauges read when scraped: the agent's own state, no Redis and no runc call. */
export interface CellMetricsSource {
  cellId: string;
  capacity: { memoryMb: number; maxContainers: number };
  instances(): InstanceSnapshot[];
  /** The newest usage sample of an instance (none before its first). */
  usage(instanceId: string): LatestSample | undefined;
  /** Memory reserved by the limits of its instances and tasks. */
  reservedMemoryMb(): number;
  tasksRunning(): number;
  stagingRunning(): number;
  draining(): boolean;
  /** Usage samples that failed so far. */
  failedSamples(): number;
}

const INSTANCE_LABELS = ['app', 'app_id', 'process_type', 'index', 'instance_id'] as const;

/**
 * The cell's Prometheus metrics, in a registry of its own: per-instance usage and limits
 * (labelled with app name and id, process type, index and instance id), instance counts by state,
 * containers, capacity, staging and tasks running, and Node's default process metrics. Every
 * series is computed at scrape time from the agent's memory, so a scrape costs no I/O and an
 * instance that stopped disappears from the next scrape.
 */
export class CellMetrics {
  readonly registry = new Registry();

  constructor(source: CellMetricsSource) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ cell: source.cellId });
    collectDefaultMetrics({ register: this.registry });
    const labelsOf = (i: InstanceSnapshot) => ({
      app: i.appName,
      app_id: i.appId,
      process_type: i.processType,
      index: String(i.index),
      instance_id: i.instanceId,
    });
    /** A per-instance gauge: one series per instance that has a value now. */
    const perInstance = (name: string, help: string, value: (i: InstanceSnapshot, sample: LatestSample | undefined) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: INSTANCE_LABELS,
        registers,
        collect() {
          this.reset();
          for (const instance of source.instances()) {
            const v = value(instance, source.usage(instance.instanceId));
            if (v !== undefined) this.set(labelsOf(instance), v);
          }
        },
      });
    perInstance('paas_cell_instance_cpu_percent', 'CPU used over the last sampling interval, in % of one core', (_, s) => s?.usage.cpuPercent);
    perInstance('paas_cell_instance_memory_bytes', 'Memory in use: cgroup usage minus inactive file cache', (_, s) => s?.usage.memoryBytes);
    perInstance('paas_cell_instance_disk_bytes', 'Bytes used on the writable layer', (_, s) => s?.usage.diskBytes);
    perInstance('paas_cell_instance_memory_limit_bytes', 'Memory limit of the container', (i) => i.memoryMb * MiB);
    perInstance('paas_cell_instance_disk_limit_bytes', 'Size limit of the writable layer', (i) => i.diskMb * MiB);
    perInstance('paas_cell_instance_cpu_quota_cores', 'CPU quota of the container in cores (no series: no quota)', (i) =>
      i.cpuMillicores === undefined ? undefined : i.cpuMillicores / 1000,
    );
    perInstance('paas_cell_instance_usage_timestamp_seconds', 'When the usage shown was sampled (Unix seconds)', (_, s) =>
      s ? Date.parse(s.usage.measuredAt) / 1000 : undefined,
    );
    new Counter({
      name: 'paas_cell_instance_cpu_seconds_total',
      help: 'CPU time the instance used since its container started (cumulative; rate() it)',
      labelNames: INSTANCE_LABELS,
      registers,
      collect() {
        this.reset();
        for (const instance of source.instances()) {
          const sample = source.usage(instance.instanceId);
          if (sample) this.inc(labelsOf(instance), sample.stats.cpuNanos / 1e9);
        }
      },
    });
    new Gauge({
      name: 'paas_cell_instances',
      help: 'Instances on this cell, by state',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const counts = new Map<string, number>(instanceStateSchema.options.map((s) => [s, 0]));
        for (const i of source.instances()) counts.set(i.state, (counts.get(i.state) ?? 0) + 1);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    const simple = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    simple('paas_cell_containers', 'Containers this cell runs: instances, tasks and staging', () =>
      source.instances().length + source.tasksRunning() + source.stagingRunning(),
    );
    simple('paas_cell_tasks_running', 'Tasks (release commands) running', () => source.tasksRunning());
    simple('paas_cell_staging_running', 'Builds staging on this cell', () => source.stagingRunning());
    simple('paas_cell_capacity_memory_bytes', 'Memory this cell offers to instances (CELL_MEMORY_MB)', () => source.capacity.memoryMb * MiB);
    simple('paas_cell_capacity_containers', 'Containers this cell takes at most (CELL_MAX_CONTAINERS)', () => source.capacity.maxContainers);
    simple('paas_cell_reserved_memory_bytes', 'Memory reserved by the limits of its instances and tasks', () => source.reservedMemoryMb() * MiB);
    simple('paas_cell_draining', '1 while the cell drains (no new placements)', () => (source.draining() ? 1 : 0));
    new Counter({
      name: 'paas_cell_usage_sample_failures_total',
      help: 'Usage samples that failed (reading a cgroup or writing the record)',
      registers,
      collect() {
        this.reset();
        this.inc(source.failedSamples());
      },
    });
  }
}

/** A listening metrics server; `close` stops it (idempotent). */
export type MetricsServer = AdminServer;

/** `GET /metrics` (Prometheus text) and `GET /health` on the cell's admin port. No token: it lists no secrets. */
export function startMetricsServer(host: string, port: number, registry: Registry, logger: Logger): Promise<MetricsServer> {
  return startAdminServer(
    host,
    port,
    {
      health: async () => ({ status: 'ok' }),
      metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    },
    logger,
  );
}
