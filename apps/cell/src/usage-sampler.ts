import type { Logger } from 'pino';
import type { InstanceUsage } from '@paas/contracts';
import type { ContainerRuntime, ContainerStats } from '@paas/runtime';

/** One container the sampler reads: an instance whose container exists (STARTING or RUNNING). */
export interface SampleTarget {
  instanceId: string;
  containerId: string;
}

/** Where samples go: the instance manager, which writes them into the instances' records. */
export interface UsageSink {
  /** The instances to sample now. */
  sampleTargets(): SampleTarget[];
  /** Stores one instance's newest usage; must ignore an instance that stopped meanwhile. */
  recordUsage(instanceId: string, usage: InstanceUsage): Promise<void>;
}

/** The newest reading of one instance: what the API shows, plus the raw counters (for Prometheus). */
export interface LatestSample {
  usage: InstanceUsage;
  stats: ContainerStats;
}

interface Reading {
  cpuNanos: number;
  atMs: number;
}

/**
 * CPU use between two readings of a container's cumulative CPU time, in % of one core (as
 * `cf app` shows it: 150 means one and a half cores were busy). 0 when no wall time passed or
 * the counter went backwards (a different container behind the same id).
 */
export function cpuPercent(previous: Reading, next: Reading): number {
  const wallNanos = (next.atMs - previous.atMs) * 1e6;
  const cpuNanos = next.cpuNanos - previous.cpuNanos;
  if (wallNanos <= 0 || cpuNanos < 0) return 0;
  return Math.round((cpuNanos / wallNanos) * 100 * 100) / 100;
}

/**
 * Samples the usage of every instance of the cell every `intervalMs` (one pass at a time) and
 * hands it to the sink. CPU % needs two readings, so an instance's first usage is recorded on
 * its second pass, one interval after its container appeared; memory and disk are as read then.
 *
 * Contract: `start` once, `stop` any number of times (it waits for a pass in progress);
 * `sampleOnce` may be called directly (tests), not concurrently with a running timer.
 */
export class UsageSampler {
  private readonly previous = new Map<string, Reading>();
  private readonly latestByInstance = new Map<string, LatestSample>();
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private failures = 0;

  constructor(
    private readonly runtime: Pick<ContainerRuntime, 'stats'>,
    private readonly sink: UsageSink,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Samples failed so far (a container that vanished mid-read is no failure). */
  get failedSamples(): number {
    return this.failures;
  }

  /** The newest sample of an instance, while it is sampled. */
  latest(instanceId: string): LatestSample | undefined {
    return this.latestByInstance.get(instanceId);
  }

  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.pass) return;
      this.pass = this.sampleOnce()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'usage-sample-failed'))
        .finally(() => (this.pass = undefined));
    }, intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  /** One pass over every target: reads, computes CPU %, records. Forgets instances no longer listed. */
  async sampleOnce(): Promise<void> {
    const targets = this.sink.sampleTargets();
    const listed = new Set(targets.map((t) => t.containerId));
    for (const id of this.previous.keys()) if (!listed.has(id)) this.previous.delete(id);
    const instances = new Set(targets.map((t) => t.instanceId));
    for (const id of this.latestByInstance.keys()) if (!instances.has(id)) this.latestByInstance.delete(id);
    for (const target of targets) {
      let stats: ContainerStats | undefined;
      const atMs = this.now();
      try {
        stats = await this.runtime.stats(target.containerId);
      } catch (error) {
        this.failures++;
        this.logger.warn({ err: error, instance: target.instanceId }, 'usage-sample-failed');
        continue;
      }
      if (!stats) {
        // Not running (yet, or any more): the instance manager notices exits on its own.
        this.previous.delete(target.containerId);
        continue;
      }
      const reading = { cpuNanos: stats.cpuNanos, atMs };
      const before = this.previous.get(target.containerId);
      this.previous.set(target.containerId, reading);
      if (!before) continue;
      const usage: InstanceUsage = {
        cpuPercent: cpuPercent(before, reading),
        memoryBytes: stats.memoryBytes,
        diskBytes: stats.diskBytes,
        measuredAt: new Date(atMs).toISOString(),
      };
      this.latestByInstance.set(target.instanceId, { usage, stats });
      await this.sink.recordUsage(target.instanceId, usage).catch((error: unknown) => {
        this.failures++;
        this.logger.warn({ err: error, instance: target.instanceId }, 'usage-record-failed');
      });
    }
  }
}
