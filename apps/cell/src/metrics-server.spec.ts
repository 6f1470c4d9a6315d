import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { InstanceSnapshot } from './instance-manager';
import { CellMetrics, startMetricsServer, type CellMetricsSource } from './metrics-server';
import type { LatestSample } from './usage-sampler';

const MiB = 1024 * 1024;

/** The value of one series in Prometheus text: `name{labels} value`, labels given as a subset. */
function seriesValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[4]);
  }
  return undefined;
}

const web0: InstanceSnapshot = {
  instanceId: 'i-web-0',
  appId: 'app-1',
  appName: 'shop',
  processType: 'web',
  index: 0,
  state: 'RUNNING',
  memoryMb: 256,
  diskMb: 1024,
  cpuMillicores: 500,
};
const { cpuMillicores: _noQuota, ...unlimited } = web0;
const worker0: InstanceSnapshot = { ...unlimited, instanceId: 'i-worker-0', processType: 'worker', state: 'STARTING' };

const sample: LatestSample = {
  usage: { cpuPercent: 12.5, memoryBytes: 40 * MiB, diskBytes: 3 * MiB, measuredAt: '2030-01-02T03:04:05.000Z' },
  stats: { cpuNanos: 7_500_000_000, memoryBytes: 40 * MiB, memoryLimitBytes: 256 * MiB, diskBytes: 3 * MiB, diskLimitBytes: 1024 * MiB },
};

function source(overrides: Partial<CellMetricsSource> = {}): CellMetricsSource {
  return {
    cellId: 'cell-7',
    capacity: { memoryMb: 8192, maxContainers: 50 },
    instances: () => [web0, worker0],
    usage: (id) => (id === web0.instanceId ? sample : undefined),
    reservedMemoryMb: () => 640,
    tasksRunning: () => 1,
    stagingRunning: () => 2,
    draining: () => false,
    failedSamples: () => 3,
    ...overrides,
  };
}

describe('CellMetrics', () => {
  it('serves per-instance usage and limits, counts by state, capacity and process metrics on GET /metrics', async () => {
    let instances = [web0, worker0];
    const metrics = new CellMetrics(source({ instances: () => instances }));
    const server = await startMetricsServer('127.0.0.1', 0, metrics.registry, pino({ level: 'silent' }));
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const web = { app: 'shop', app_id: 'app-1', process_type: 'web', index: '0', instance_id: 'i-web-0', cell: 'cell-7' };
      assert.equal(seriesValue(text, 'paas_cell_instance_cpu_percent', web), 12.5);
      assert.equal(seriesValue(text, 'paas_cell_instance_memory_bytes', web), 40 * MiB);
      assert.equal(seriesValue(text, 'paas_cell_instance_disk_bytes', web), 3 * MiB);
      assert.equal(seriesValue(text, 'paas_cell_instance_memory_limit_bytes', web), 256 * MiB);
      assert.equal(seriesValue(text, 'paas_cell_instance_disk_limit_bytes', web), 1024 * MiB);
      assert.equal(seriesValue(text, 'paas_cell_instance_cpu_quota_cores', web), 0.5);
      assert.equal(seriesValue(text, 'paas_cell_instance_cpu_quota_cores', { instance_id: 'i-worker-0' }), undefined, 'no quota: no series');
      assert.equal(seriesValue(text, 'paas_cell_instance_cpu_seconds_total', web), 7.5);
      assert.equal(seriesValue(text, 'paas_cell_instance_usage_timestamp_seconds', web), Date.parse('2030-01-02T03:04:05Z') / 1000);
      // The worker has no sample yet: its limits, but no usage series.
      assert.equal(seriesValue(text, 'paas_cell_instance_memory_limit_bytes', { instance_id: 'i-worker-0' }), 256 * MiB);
      assert.equal(seriesValue(text, 'paas_cell_instance_memory_bytes', { instance_id: 'i-worker-0' }), undefined);
      assert.equal(seriesValue(text, 'paas_cell_instances', { state: 'RUNNING' }), 1);
      assert.equal(seriesValue(text, 'paas_cell_instances', { state: 'STARTING' }), 1);
      assert.equal(seriesValue(text, 'paas_cell_instances', { state: 'CRASHED' }), 0);
      assert.equal(seriesValue(text, 'paas_cell_containers'), 5);
      assert.equal(seriesValue(text, 'paas_cell_tasks_running'), 1);
      assert.equal(seriesValue(text, 'paas_cell_staging_running'), 2);
      assert.equal(seriesValue(text, 'paas_cell_capacity_memory_bytes'), 8192 * MiB);
      assert.equal(seriesValue(text, 'paas_cell_capacity_containers'), 50);
      assert.equal(seriesValue(text, 'paas_cell_reserved_memory_bytes'), 640 * MiB);
      assert.equal(seriesValue(text, 'paas_cell_draining'), 0);
      assert.equal(seriesValue(text, 'paas_cell_usage_sample_failures_total'), 3);
      assert.ok((seriesValue(text, 'process_resident_memory_bytes', { cell: 'cell-7' }) ?? 0) > 0, 'default process metrics');

      // A stopped instance is gone from the next scrape.
      instances = [worker0];
      const again = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      assert.equal(seriesValue(again, 'paas_cell_instance_memory_bytes', { instance_id: 'i-web-0' }), undefined);
      assert.equal(seriesValue(again, 'paas_cell_instance_memory_limit_bytes', { instance_id: 'i-web-0' }), undefined);

      assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      await server.close();
      await server.close();
    }
  });
});
