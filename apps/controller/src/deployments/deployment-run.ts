import type { ActualInstance } from '@paas/contracts';
import type { HeldLease } from '@paas/redis';
import type { Deployment } from '../generated/prisma/client';
import type { Logger } from '../platform/config/config.module';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import type { AppWithSpace } from '../apps/apps.repository';
import type { ReleaseWithDroplet } from '../releases/releases.repository';
import type { InstanceSpec } from '../placement/instances.service';
import { abortableSleep, CanceledError, type CancelWatch } from './cancel-watch';
import { healthTimeoutMessage, healthVerdict, releaseCommandOf } from './deploy-reports';
import { prunedDroplet } from './deployment-errors';
import type { DeploymentSteps } from './deployment-steps';

/** New instances started at once during a rolling deploy, per process type. */
const MAX_IN_FLIGHT = 2;
/**
 * Beyond an instance's health-check timeout, how long the deployment waits for its cell's verdict
 * (the cell's own timeout starts after the droplet download; its report carries the log lines).
 */
const CELL_VERDICT_GRACE_MS = 30_000;
/** How often the new instances' state is read while waiting for them. */
export const HEALTH_POLL_MS = 200;
/** How long an undone deployment waits for its new instances to be gone before it restores old ones. */
const UNDO_WAIT_MS = 10_000;

export type Say = (line: string) => void;

/** An old instance stopped by a deployment: its index is started again from the previous release if the deployment does not finish. */
interface Replaced {
  instanceId: string;
  processType: string;
  index: number;
}

/** One deployment as it runs: what it deploys, the lease it holds, the cancel watch it obeys, where it reports and logs. */
export interface DeploymentRunState {
  deployment: Deployment;
  app: AppWithSpace;
  release: ReleaseWithDroplet;
  /** The app's current release when the deployment began: kept when it fails. */
  previousReleaseId: string | null;
  lease: HeldLease;
  cancel: CancelWatch;
  say: Say;
  /** The controller's logger, for what goes wrong beside the deployment (an undo left incomplete). */
  log: Logger;
}

/**
 * One run of a recorded deployment (see DeploymentRunner): the release phase, then each process
 * type rolled a few instances at a time, then the release made current. A failure or a cancel
 * undoes what the run did (the instances it started are removed, the old ones it replaced come
 * back) and ends the deployment FAILED or CANCELED. The run ends by releasing its lease and
 * clearing its cancel request. Carries the instances it started and replaced; used once.
 */
export class DeploymentRun {
  private readonly started: string[] = [];
  private readonly replaced: Replaced[] = [];

  constructor(
    private readonly steps: DeploymentSteps,
    private readonly state: DeploymentRunState,
  ) {}

  /** Resolves when the release is live; throws (after undoing) when the deployment fails or is canceled. */
  async run(): Promise<void> {
    const { deployment, app, release, previousReleaseId, lease, cancel, say } = this.state;
    cancel.start();
    try {
      await cancel.check();
      if (release.droplet.prunedAt) throw prunedDroplet(app.name, release.version);
      const specs = await this.steps.specs.specsOf(app, release);
      const web = specs.find((s) => s.spec.processType === 'web');
      if (!web) {
        throw new DomainException(ErrorCode.Unprocessable, 'the release has no web command: add a Procfile "web:" line or a start script');
      }
      // The release phase: once per deployment of a release that is not running yet (a restart of
      // the current release does not run it again), before any new instance starts.
      const command = releaseCommandOf(release.processTypes);
      if (command && release.id !== previousReleaseId) {
        await this.steps.releasePhase.run(deployment.id, web.spec, command, say, cancel.signal);
        await cancel.check();
      }
      for (const { spec, instances } of specs) {
        await this.rollProcess(spec, instances);
      }
      // The last step a cancel can stop: past this point the release is live.
      await cancel.check();
      await this.steps.apps.setCurrentRelease(app.id, release.id);
      await this.steps.deployments.finish(deployment.id, 'DEPLOYED');
    } catch (error) {
      const canceledBy = cancel.by ?? (error instanceof CanceledError ? error.by : undefined);
      cancel.stop();
      await this.undo(canceledBy ? 'canceled deployment' : 'failed deployment');
      if (canceledBy !== undefined) {
        const reason = `canceled by ${canceledBy}`;
        await this.steps.deployments.finish(deployment.id, 'CANCELED', reason);
        say(`-----> Deployment canceled by ${canceledBy}: the new instances were removed`);
        throw new DomainException(
          ErrorCode.DeploymentCanceled,
          `deployment ${deployment.id} of ${app.name} was ${reason}: the new instances were removed and the previous release keeps serving`,
        );
      }
      await this.steps.deployments.finish(deployment.id, 'FAILED', (error as Error).message);
      throw error;
    } finally {
      cancel.stop();
      await lease.release();
      await cancel.clear().catch(() => undefined);
    }
  }

  /**
   * After a failed or canceled deployment: removes the instances it started and starts again, from
   * the release that stays current, the old instances it had already replaced (a batch beyond
   * the first). What fits nowhere now is left to the convergence loop.
   */
  private async undo(reason: string): Promise<void> {
    const { app, previousReleaseId: currentReleaseId } = this.state;
    const { started, replaced } = this;
    try {
      const actual = await this.steps.instances.actual(app.id);
      const mine = actual.filter((a) => started.includes(a.instanceId));
      for (const i of mine) await this.steps.instances.stop(i, reason).catch(() => undefined);
      // Gone (bounded) before the deployment ends: its caller then sees only the previous release's
      // instances, and the convergence loop, free once it ends, never sees a new instance and its
      // restored predecessor at one index and keeps the wrong one.
      if (mine.length && !(await this.steps.instances.waitGone(app.id, mine.map((i) => i.instanceId), UNDO_WAIT_MS))) {
        this.state.log.warn({ app: app.name }, 'new instances of an undone deployment not gone yet');
      }
      if (!replaced.length || !currentReleaseId) return;
      const fresh = await this.steps.apps.find(app.id);
      const current = await this.steps.releases.find(currentReleaseId);
      if (!fresh || fresh.state !== 'STARTED' || !current) return;
      const gone = new Set([...started, ...replaced.map((r) => r.instanceId)]);
      const remaining = (await this.steps.instances.actual(app.id)).filter((a) => !gone.has(a.instanceId) && a.state !== 'CRASHED' && a.state !== 'STOPPING');
      for (const { spec } of await this.steps.specs.specsOf(fresh, current)) {
        const missing = replaced
          .filter((r) => r.processType === spec.processType && !remaining.some((a) => a.processType === r.processType && a.index === r.index))
          .map((r) => r.index);
        if (missing.length) await this.steps.instances.startMany(spec, missing);
      }
    } catch (error) {
      this.state.log.warn({ err: error, app: app.name }, 'deployment-undo-incomplete');
    }
  }

  /** Replaces the old instances of one process type by `instances` new ones, a few at a time. */
  private async rollProcess(spec: InstanceSpec, instances: number): Promise<void> {
    const { app, say } = this.state;
    const { started, replaced } = this;
    const signal = this.state.cancel.signal;
    // Everything of this type that ran before this deployment is replaced (a restart redeploys the same release).
    const old = (await this.steps.instances.actual(app.id)).filter((i) => i.processType === spec.processType && !started.includes(i.instanceId));
    if (instances > 0) say(`-----> Starting ${instances} ${spec.processType} instance(s) of ${app.name}`);
    for (let first = 0; first < instances; first += MAX_IN_FLIGHT) {
      if (signal.aborted) throw signal.reason as Error;
      const indexes = Array.from({ length: Math.min(MAX_IN_FLIGHT, instances - first) }, (_, k) => first + k);
      const { placed, unplaced } = await this.steps.instances.startMany(spec, indexes);
      started.push(...placed.map((p) => p.instanceId));
      if (unplaced.length > 0) throw new DomainException(ErrorCode.NoCellAvailable, unplaced[0].reason);
      await this.waitHealthy(spec, placed, (line) => say(`       ${line}`));
      for (const index of indexes) {
        for (const o of old.filter((o) => o.index === index)) {
          await this.steps.instances.stop(o, 'replaced by a new release');
          replaced.push({ instanceId: o.instanceId, processType: o.processType, index: o.index });
        }
      }
    }
    const extras: ActualInstance[] = old.filter((o) => o.index >= instances);
    for (const o of extras) await this.steps.instances.stop(o, 'replaced by a new release');
    const stopped = old.length;
    if (stopped) say(`-----> Stopped ${stopped} ${spec.processType} instance(s) of the previous release`);
  }

  /**
   * Waits until the new instances run (healthy, routed). Fails as soon as one crashes or misses
   * its health check, with its cell's reason and last log lines; fails too when the cells say
   * nothing within the health timeout and a grace; stops at once when `signal` aborts.
   */
  private async waitHealthy(spec: InstanceSpec, placed: ReadonlyArray<{ index: number; instanceId: string }>, onProgress: (line: string) => void): Promise<void> {
    const appId = this.state.app.id;
    const signal = this.state.cancel.signal;
    const ids = placed.map((p) => p.instanceId);
    const deadline = Date.now() + spec.healthCheck.timeoutS * 1000 + CELL_VERDICT_GRACE_MS;
    let last = -1;
    while (Date.now() < deadline) {
      if (signal.aborted) throw signal.reason as Error;
      const verdict = healthVerdict(await this.steps.instances.actual(appId), ids, spec.processType);
      if (verdict.kind === 'failed') throw new DomainException(ErrorCode.StagingFailed, verdict.message);
      if (verdict.kind === 'running') {
        if (last !== ids.length) onProgress(`${ids.length} of ${ids.length} new instance(s) running`);
        return;
      }
      if (verdict.running !== last) onProgress(`${verdict.running} of ${ids.length} new instance(s) running`);
      last = verdict.running;
      await abortableSleep(HEALTH_POLL_MS, signal);
    }
    throw new DomainException(ErrorCode.StagingFailed, healthTimeoutMessage(spec.processType, placed.map((p) => p.index), spec.healthCheck.timeoutS));
  }
}
