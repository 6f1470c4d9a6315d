import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { InstanceUsage } from '@paas/contracts';
import { FakeRuntime, type ContainerSpec } from '@paas/runtime';
import { UsageSampler, cpuPercent, type SampleTarget, type UsageSink } from './usage-sampler';

const MiB = 1024 * 1024;
const logger = pino({ level: 'silent' });

const spec = (id: string): ContainerSpec => ({
  id,
  layers: ['/droplets/d1'],
  command: ['/bin/sh', '-c', 'exec node server.js'],
  cwd: '/home/vcap/app',
  env: {},
  user: { uid: 2000, gid: 2000 },
  memoryMb: 256,
  diskMb: 1024,
  pidsLimit: 1024,
  containerPort: 8080,
});

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

/** A sink that keeps what it was given; `targets` is what it asks the sampler to read. */
class RecordingSink implements UsageSink {
  targets: SampleTarget[] = [];
  readonly recorded: Array<{ instanceId: string; usage: InstanceUsage }> = [];
  sampleTargets(): SampleTarget[] {
    return this.targets;
  }
  async recordUsage(instanceId: string, usage: InstanceUsage): Promise<void> {
    this.recorded.push({ instanceId, usage });
  }
}

describe('cpuPercent', () => {
  it('is the CPU time between two readings over the wall time, in % of one core', () => {
    // 0.5 s of CPU in 2 s: a quarter of one core.
    assert.equal(cpuPercent({ cpuNanos: 1_000_000_000, atMs: 10_000 }, { cpuNanos: 1_500_000_000, atMs: 12_000 }), 25);
    // Two cores busy for 1 s.
    assert.equal(cpuPercent({ cpuNanos: 0, atMs: 0 }, { cpuNanos: 2_000_000_000, atMs: 1_000 }), 200);
    // Idle.
    assert.equal(cpuPercent({ cpuNanos: 7, atMs: 0 }, { cpuNanos: 7, atMs: 5_000 }), 0);
    // Rounded to two decimals: 1 ms of CPU in 3 s.
    assert.equal(cpuPercent({ cpuNanos: 0, atMs: 0 }, { cpuNanos: 1_000_000, atMs: 3_000 }), 0.03);
  });

  it('is 0 when no time passed or the counter went backwards (another container under the id)', () => {
    assert.equal(cpuPercent({ cpuNanos: 0, atMs: 5_000 }, { cpuNanos: 1_000_000, atMs: 5_000 }), 0);
    assert.equal(cpuPercent({ cpuNanos: 5_000_000_000, atMs: 0 }, { cpuNanos: 1_000, atMs: 5_000 }), 0);
  });
});

describe('UsageSampler', () => {
  it('records usage from the second reading on, with the CPU % of the interval and the time of the sample', async () => {
    const clock = manualClock();
    // 40% of one core all along; memory grows by 1 MiB a second.
    const runtime = new FakeRuntime({
      now: clock.now,
      usageFor: (_spec, runningMs) => ({ cpuNanos: runningMs * 400_000, memoryBytes: 10 * MiB + Math.floor(runningMs / 1000) * MiB, diskBytes: 3 * MiB }),
    });
    await runtime.start(spec('c-a'));
    const sink = new RecordingSink();
    sink.targets = [{ instanceId: 'i-a', containerId: 'c-a' }];
    const sampler = new UsageSampler(runtime, sink, logger, clock.now);

    await sampler.sampleOnce();
    assert.deepEqual(sink.recorded, [], 'one reading gives no CPU %: nothing recorded yet');
    assert.equal(sampler.latest('i-a'), undefined);

    clock.advance(5_000);
    await sampler.sampleOnce();
    assert.deepEqual(sink.recorded, [
      { instanceId: 'i-a', usage: { cpuPercent: 40, memoryBytes: 15 * MiB, diskBytes: 3 * MiB, measuredAt: new Date(clock.now()).toISOString() } },
    ]);
    assert.equal(sampler.latest('i-a')?.stats.cpuNanos, 2_000_000_000);
    assert.equal(sampler.latest('i-a')?.stats.memoryLimitBytes, 256 * MiB);
  });

  it('skips containers that do not run and forgets instances no longer listed', async () => {
    const clock = manualClock();
    const runtime = new FakeRuntime({ now: clock.now, usageFor: (_s, ms) => ({ cpuNanos: ms * 1_000_000, memoryBytes: MiB }) });
    await runtime.start(spec('c-a'));
    const sink = new RecordingSink();
    sink.targets = [
      { instanceId: 'i-a', containerId: 'c-a' },
      { instanceId: 'i-gone', containerId: 'c-never-started' },
    ];
    const sampler = new UsageSampler(runtime, sink, logger, clock.now);
    await sampler.sampleOnce();
    clock.advance(1_000);
    await sampler.sampleOnce();
    assert.deepEqual(
      sink.recorded.map((r) => [r.instanceId, r.usage.cpuPercent]),
      [['i-a', 100]],
    );
    sink.targets = [];
    await sampler.sampleOnce();
    assert.equal(sampler.latest('i-a'), undefined, 'an instance no longer listed has no sample');
    assert.equal(sampler.failedSamples, 0);
  });

  it('counts a failed read and goes on with the other instances', async () => {
    const clock = manualClock();
    const real = new FakeRuntime({ now: clock.now, usageFor: () => ({ memoryBytes: 2 * MiB }) });
    await real.start(spec('c-b'));
    const runtime = {
      stats: (id: string) => (id === 'c-a' ? Promise.reject(new Error('EIO reading memory.stat')) : real.stats(id)),
    };
    const sink = new RecordingSink();
    sink.targets = [
      { instanceId: 'i-a', containerId: 'c-a' },
      { instanceId: 'i-b', containerId: 'c-b' },
    ];
    const sampler = new UsageSampler(runtime, sink, logger, clock.now);
    await sampler.sampleOnce();
    clock.advance(5_000);
    await sampler.sampleOnce();
    assert.equal(sampler.failedSamples, 2);
    assert.deepEqual(
      sink.recorded.map((r) => [r.instanceId, r.usage.memoryBytes]),
      [['i-b', 2 * MiB]],
    );
  });

  it('samples on its own timer until stopped', async () => {
    const runtime = new FakeRuntime({ usageFor: () => ({ memoryBytes: MiB }) });
    await runtime.start(spec('c-a'));
    const sink = new RecordingSink();
    sink.targets = [{ instanceId: 'i-a', containerId: 'c-a' }];
    const sampler = new UsageSampler(runtime, sink, logger);
    sampler.start(20);
    const deadline = Date.now() + 5_000;
    while (sink.recorded.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await sampler.stop();
    assert.ok(sink.recorded.length >= 2, `recorded ${sink.recorded.length} samples`);
    const count = sink.recorded.length;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(sink.recorded.length, count, 'nothing is sampled after stop');
  });
});
