/**
 * Usage sampling with real runc (as root): a container whose app allocates memory and writes a
 * file when asked over HTTP; the sampler (reading the real cgroup and the ext4 layer image) sees
 * memory and disk go up, and the cell's Prometheus server shows them for the instance.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { InstanceUsage } from '@paas/contracts';
import { cleanupAll, ensureStack, RuncRuntime, VCAP_GID, VCAP_UID, type ContainerHandle, type RuncRuntimeConfig, testRuntimeConfig } from '@paas/runtime';
import type { InstanceSnapshot } from './instance-manager';
import { CellMetrics, startMetricsServer, type MetricsServer } from './metrics-server';
import { UsageSampler, type SampleTarget, type UsageSink } from './usage-sampler';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * GET /eat?mb=N keeps N more MiB (filled, so resident); GET /write?mb=N writes N MiB to
 * /tmp/data-K and fsyncs; GET /spin?ms=N keeps one core busy for N ms.
 */
const EATER_JS = `
const http = require('http'), fs = require('fs');
const kept = [];
let files = 0;
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  const mb = Number(url.searchParams.get('mb') || '0');
  if (url.pathname === '/eat') {
    kept.push(Buffer.alloc(mb * 1024 * 1024, 1));
  } else if (url.pathname === '/write') {
    const fd = fs.openSync('/tmp/data-' + files++, 'w');
    const chunk = Buffer.alloc(1024 * 1024, 7);
    for (let i = 0; i < mb; i++) fs.writeSync(fd, chunk);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } else if (url.pathname === '/spin') {
    const end = Date.now() + Number(url.searchParams.get('ms') || '0');
    while (Date.now() < end) {}
  }
  res.end(JSON.stringify({ keptMb: kept.reduce((n, b) => n + b.length, 0) / 1048576, files }));
}).listen(Number(process.env.PORT), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

const suffix = randomBytes(2).toString('hex');
const name = `us${suffix}`;
const portBase = 30000 + randomInt(0, 300) * 100;

class RecordingSink implements UsageSink {
  targets: SampleTarget[] = [];
  readonly recorded: InstanceUsage[] = [];
  sampleTargets(): SampleTarget[] {
    return this.targets;
  }
  async recordUsage(_instanceId: string, usage: InstanceUsage): Promise<void> {
    this.recorded.push(usage);
  }
}

function seriesValue(text: string, series: string, instanceId: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series}{`) && l.includes(`instance_id="${instanceId}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('usage sampling (real runc, as root)', () => {
  let tmp: string;
  let config: RuncRuntimeConfig;
  let runtime: RuncRuntime;
  let handle: ContainerHandle;
  let metricsServer: MetricsServer | undefined;
  const sink = new RecordingSink();
  const containerId = `${name}-eater`;
  const instance: InstanceSnapshot = {
    instanceId: 'inst-eater',
    appId: 'app-eater',
    appName: 'eater',
    processType: 'web',
    index: 0,
    state: 'RUNNING',
    memoryMb: 256,
    diskMb: 256,
  };
  let sampler: UsageSampler;

  /** GETs a path of the app, retrying while it boots. */
  async function app(path: string): Promise<unknown> {
    const deadline = Date.now() + 15_000;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`http://127.0.0.1:${handle.hostPort}${path}`, { signal: AbortSignal.timeout(10_000) });
        return await res.json();
      } catch (error) {
        last = error;
        await sleep(100);
      }
    }
    throw new Error(`the app did not answer ${path}: ${String(last)}`);
  }

  /** Samples until `check` holds for the newest usage (or the deadline passes); returns that usage. */
  async function sampleUntil(what: string, check: (u: InstanceUsage) => boolean, timeoutMs = 30_000): Promise<InstanceUsage> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await sampler.sampleOnce();
      const latest = sink.recorded.at(-1);
      if (latest && check(latest)) return latest;
      await sleep(250);
    }
    throw new Error(`timed out waiting for ${what}; last usage: ${JSON.stringify(sink.recorded.at(-1))}`);
  }

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-usage-it-'));
    config = testRuntimeConfig(name, tmp, portBase);
    await ensureStack(config.stackDir);
    const droplet = join(tmp, 'droplet');
    await mkdir(join(droplet, 'app'), { recursive: true });
    await writeFile(join(droplet, 'app', 'eater.js'), EATER_JS);
    runtime = new RuncRuntime(config);
    handle = await runtime.start({
      id: containerId,
      layers: [droplet],
      command: ['/usr/bin/node', '/app/eater.js'],
      cwd: '/app',
      env: { PORT: '8080' },
      user: { uid: VCAP_UID, gid: VCAP_GID },
      memoryMb: 256,
      diskMb: 256,
      pidsLimit: 64,
      containerPort: 8080,
      logFile: join(tmp, 'eater.log'),
    });
    sink.targets = [{ instanceId: instance.instanceId, containerId }];
    sampler = new UsageSampler(runtime, sink, pino({ level: 'silent' }));
  });

  after(async () => {
    try {
      await metricsServer?.close();
      await cleanupAll(config);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it("reads the container's cgroup and layer: limits as set, usage plausible for an idle node", async () => {
    await app('/');
    const stats = await runtime.stats(containerId);
    assert.ok(stats, 'a running container has stats');
    assert.equal(stats.memoryLimitBytes, 256 * MiB);
    assert.equal(stats.diskLimitBytes, 256 * MiB);
    assert.ok(stats.cpuNanos > 0, `node used some CPU to boot (${stats.cpuNanos} ns)`);
    assert.ok(stats.memoryBytes > 5 * MiB && stats.memoryBytes < 200 * MiB, `an idle node uses ${stats.memoryBytes} bytes`);
    assert.ok(stats.diskBytes < 20 * MiB, `a fresh writable layer uses ${stats.diskBytes} bytes`);
    assert.equal(await runtime.stats(`${name}-unknown`), undefined);
  });

  it('memory in use goes up by what the app allocates', async () => {
    const before = await sampleUntil('a first usage sample', () => true);
    await app('/eat?mb=60');
    const after = await sampleUntil('memory up by 50 MiB', (u) => u.memoryBytes - before.memoryBytes >= 50 * MiB);
    assert.ok(after.memoryBytes - before.memoryBytes < 120 * MiB, `grew by ${(after.memoryBytes - before.memoryBytes) / MiB} MiB for 60 MiB`);
    assert.ok(Date.parse(after.measuredAt) > Date.parse(before.measuredAt));
    assert.ok(after.cpuPercent >= 0 && after.cpuPercent < 100 * 64, `cpu ${after.cpuPercent}%`);
  });

  it('disk in use goes up by what the app writes to its writable layer', async () => {
    const before = sink.recorded.at(-1)!;
    await app('/write?mb=30');
    const after = await sampleUntil('disk up by 25 MiB', (u) => u.diskBytes - before.diskBytes >= 25 * MiB);
    assert.ok(after.diskBytes - before.diskBytes < 40 * MiB, `grew by ${(after.diskBytes - before.diskBytes) / MiB} MiB for 30 MiB`);
  });

  it('an app spinning on one core shows CPU % near 100', async () => {
    const idle = await sampleUntil('a sample', () => true);
    assert.ok(idle.cpuPercent < 50, `an idle app uses ${idle.cpuPercent}% CPU`);
    const busy = app('/spin?ms=4000');
    await sleep(300);
    // Over an interval entirely inside the spin: one core, give or take scheduling.
    await sampler.sampleOnce();
    await sleep(1_000);
    await sampler.sampleOnce();
    const seen = sink.recorded.at(-1)!;
    await busy;
    assert.ok(seen.cpuPercent > 60 && seen.cpuPercent < 140, `a spinning app uses ${seen.cpuPercent}% CPU`);
  });

  it("the cell's /metrics shows the instance's usage and limits", async () => {
    const metrics = new CellMetrics({
      cellId: 'cell-it',
      capacity: { memoryMb: 4096, maxContainers: 10 },
      instances: () => [instance],
      usage: (id) => sampler.latest(id),
      reservedMemoryMb: () => instance.memoryMb,
      tasksRunning: () => 0,
      stagingRunning: () => 0,
      draining: () => false,
      failedSamples: () => sampler.failedSamples,
    });
    metricsServer = await startMetricsServer('127.0.0.1', 0, metrics.registry, pino({ level: 'silent' }));
    await sampler.sampleOnce();
    const latest = sampler.latest(instance.instanceId)!;
    const text = await (await fetch(`http://127.0.0.1:${metricsServer.port}/metrics`)).text();
    assert.equal(seriesValue(text, 'paas_cell_instance_memory_bytes', instance.instanceId), latest.usage.memoryBytes);
    assert.ok((seriesValue(text, 'paas_cell_instance_memory_bytes', instance.instanceId) ?? 0) > 60 * MiB);
    assert.equal(seriesValue(text, 'paas_cell_instance_disk_bytes', instance.instanceId), latest.usage.diskBytes);
    assert.equal(seriesValue(text, 'paas_cell_instance_memory_limit_bytes', instance.instanceId), 256 * MiB);
    assert.equal(seriesValue(text, 'paas_cell_instance_cpu_seconds_total', instance.instanceId), latest.stats.cpuNanos / 1e9);
    assert.match(text, /^paas_cell_usage_sample_failures_total\{cell="cell-it"\} 0$/m);
  });

  it('a stopped container has no stats, and the sampler records nothing more for it', async () => {
    await runtime.stop(containerId, 2_000);
    assert.equal(await runtime.stats(containerId), undefined);
    const count = sink.recorded.length;
    await sampler.sampleOnce();
    assert.equal(sink.recorded.length, count);
    assert.equal(sampler.failedSamples, 0);
  });
});
