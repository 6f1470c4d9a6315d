import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerSpec } from './container-runtime';
import { createTestRuntime, type TestRuntime } from './integration-test-support';
import type { RuncRuntime, RuncRuntimeConfig } from './runc-runtime';
import { pollUntil } from '@paas/local-services';

const suffix = randomBytes(2).toString('hex');
const portBase = 20000 + randomInt(0, 400) * 100;

/** Two shell loops: a tenant's app spinning as many cores as it can get on this 2-core machine. */
const SPIN = ['/bin/sh', '-c', 'while :; do :; done & while :; do :; done'];

/** How long CPU use is measured: hundreds of CFS periods, short enough for the suite. */
const MEASURE_MS = 2_000;

/** A container's CFS settings and throttle counters, from its cpu cgroup (v1 `cpu`, or v2 unified). */
async function cfsOf(config: RuncRuntimeConfig, id: string): Promise<{ quotaUs: number; periodUs: number; nrThrottled: number }> {
  const state = JSON.parse(await readFile(join(config.runcRoot, id, 'state.json'), 'utf8')) as { cgroup_paths: Record<string, string> };
  const stat = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  const v1 = state.cgroup_paths['cpu'];
  if (v1) {
    const [quota, period, cpuStat] = await Promise.all(
      ['cpu.cfs_quota_us', 'cpu.cfs_period_us', 'cpu.stat'].map((file) => readFile(join(v1, file), 'utf8')),
    );
    return { quotaUs: Number(quota.trim()), periodUs: Number(period.trim()), nrThrottled: stat(cpuStat, 'nr_throttled') };
  }
  const unified = state.cgroup_paths[''];
  const [max, cpuStat] = await Promise.all([readFile(join(unified, 'cpu.max'), 'utf8'), readFile(join(unified, 'cpu.stat'), 'utf8')]);
  const [quota, period] = max.trim().split(' ');
  return { quotaUs: quota === 'max' ? -1 : Number(quota), periodUs: Number(period), nrThrottled: stat(cpuStat, 'nr_throttled') };
}

describe('RuncRuntime CPU quota (cpuMillicores, real runc, as root)', () => {
  let fixture: TestRuntime;
  let config: RuncRuntimeConfig;
  let runtime: RuncRuntime;
  const spec = (id: string, overrides: Partial<ContainerSpec> = {}) => fixture.spec(id, overrides);

  /** Cores used over MEASURE_MS of wall time (cpuacct usage / elapsed), once the loops are running. */
  async function coresUsed(id: string): Promise<number> {
    const first = await pollUntil(`${id} to use some CPU`, async () => {
      const stats = await runtime.stats(id);
      return stats && stats.cpuNanos > 0 && stats;
    }, { timeoutMs: 15_000, intervalMs: 50 });
    const start = process.hrtime.bigint();
    // The measured interval itself: CPU time is only meaningful over many CFS periods.
    await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
    const last = await runtime.stats(id);
    const elapsedNs = Number(process.hrtime.bigint() - start);
    assert.ok(last, `${id} still runs`);
    return (last.cpuNanos - first.cpuNanos) / elapsedNs;
  }

  before(async () => {
    fixture = await createTestRuntime({
      name: `pc${suffix}`,
      portBase,
      defaults: { layers: [], command: SPIN, cwd: '/', memoryMb: 64, pidsLimit: 16, labels: { test: 'cpu' } },
    });
    ({ config, runtime } = fixture);
  });

  after(() => fixture.dispose());

  it('cpuMillicores 500: two spinning loops get about half a core, and the kernel throttles them', async () => {
    const id = `pc${suffix}-half`;
    await runtime.start(spec(id, { cpuMillicores: 500 }));
    try {
      const cores = await coresUsed(id);
      // Half a core plus slack for the period boundaries; without the quota two loops on two cores
      // take about 1 to 2 cores, depending on what else runs here (the third test prints it).
      assert.ok(cores < 0.65, `used ${cores.toFixed(2)} cores with a 0.5 quota`);
      assert.ok(cores > 0.2, `used only ${cores.toFixed(2)} cores: the loops did not run`);
      const cfs = await cfsOf(config, id);
      assert.deepEqual([cfs.quotaUs, cfs.periodUs], [5_000, 10_000]);
      assert.ok(cfs.nrThrottled >= 20, `throttled in ${cfs.nrThrottled} periods`);
    } finally {
      await runtime.destroy(id);
    }
  });

  it('the app cannot lift its own quota: every cpu.cfs_quota_us it can see is read-only to it', async () => {
    const id = `pc${suffix}-lift`;
    // What a tenant would try: write -1 (no quota) into every quota file visible inside, then report.
    const script =
      'for f in /sys/fs/cgroup/cpu*/cpu.cfs_quota_us /sys/fs/cgroup/cpu*/*/cpu.cfs_quota_us /sys/fs/cgroup/cpu*/*/*/cpu.cfs_quota_us /sys/fs/cgroup/cpu.max; do ' +
      '[ -e "$f" ] || continue; if echo -1 > "$f" 2>/dev/null; then echo "wrote $f"; else echo "refused $f"; fi; done; echo done; exec /usr/bin/sleep 600';
    await runtime.start(spec(id, { cpuMillicores: 500, command: ['/bin/sh', '-c', script] }));
    try {
      const log = join(fixture.tmp, `${id}.log`);
      let text = '';
      await pollUntil(`the report of ${id}`, async () => /^done$/m.test((text = await readFile(log, 'utf8').catch(() => ''))), {
        timeoutMs: 15_000,
        intervalMs: 50,
      }).catch((error: Error) => {
        throw new Error(`${error.message}; no report from ${id}: ${text}`);
      });
      assert.doesNotMatch(text, /^wrote /m, text);
      assert.match(text, /^refused /m, 'it saw at least one quota file to try');
      assert.equal((await cfsOf(config, id)).quotaUs, 5_000, 'the quota is unchanged');
      console.log(`# inside, ${text.match(/^refused /gm)?.length ?? 0} quota files were visible and all refused the write`);
    } finally {
      await runtime.destroy(id);
    }
  });

  it('cpuMillicores 1500 on a 2-core cell: the quota is 15 ms per 10 ms period (more than one core); 20m: 1 ms per 50 ms', async () => {
    const id = `pc${suffix}-more`;
    await runtime.start(spec(id, { cpuMillicores: 1500, command: ['/usr/bin/sleep', '600'] }));
    try {
      const cfs = await cfsOf(config, id);
      assert.deepEqual([cfs.quotaUs, cfs.periodUs], [15_000, 10_000]);
    } finally {
      await runtime.destroy(id);
    }
    const small = `pc${suffix}-small`;
    await runtime.start(spec(small, { cpuMillicores: 20, command: ['/usr/bin/sleep', '600'] }));
    try {
      const cfs = await cfsOf(config, small);
      assert.deepEqual([cfs.quotaUs, cfs.periodUs], [1_000, 50_000], 'the kernel takes the smallest quota');
    } finally {
      await runtime.destroy(small);
    }
  });

  it('without cpuMillicores: no quota (as before), the same loops are never throttled', async () => {
    const id = `pc${suffix}-free`;
    await runtime.start(spec(id));
    try {
      assert.equal((await cfsOf(config, id)).quotaUs, -1);
      const cores = await coresUsed(id);
      const { nrThrottled } = await cfsOf(config, id);
      assert.equal(nrThrottled, 0);
      // Printed, not asserted: how much an unlimited spinner takes depends on what else runs here.
      console.log(`# without a quota the two loops used ${cores.toFixed(2)} cores`);
    } finally {
      await runtime.destroy(id);
    }
  });
});
