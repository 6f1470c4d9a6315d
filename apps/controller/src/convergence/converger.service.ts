import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { CellPresence } from '@paas/contracts';
import { clearUnplacedBeyond, forgetInstance, listLiveCells, readCellRegistry, readCrashHistories, recordCrash, resetCrash, unregisterEndpoint } from '@paas/redis';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { AppsRepository } from '../apps/apps.repository';
import { ReleaseSpecsService, type ProcessSpec } from '../deployments/release-specs.service';
import { EventsService, SYSTEM_ACTOR } from '../audit/events.service';
import { RedisService } from '../platform/redis/redis.module';
import { ReleasesRepository } from '../releases/releases.repository';
import { InstancesService } from '../placement/instances.service';
import { LeaderElectionService } from './leader-election.service';
import { planConvergence, type CrashHistory } from './convergence';
import { PRESENCE_WATCH_MS, newlyExpired } from './presence-watch';

/**
 * The convergence loop (on the leader only): for every started app with a current release and
 * no deployment in progress, compares desired instances with actual ones and applies the plan:
 * starts missing ones, restarts crashed ones after their backoff, replaces the instances of lost
 * cells (and prunes their endpoints), evacuates draining cells, stops extras. An instance that
 * fits nowhere is recorded as unplaced with the reason, which the API shows. After Redis lost
 * its data the loop pauses for REDIS_REBUILD_SETTLE_MS, while the cells re-report.
 *
 * A pass runs every `convergeIntervalMs`, and at once when the presence watch sees a cell's
 * presence expire (read every PRESENCE_WATCH_MS): a lost cell is acted on within a quarter
 * second of its TTL running out rather than up to a whole interval later. Whether a cell is lost
 * is still the TTL's call alone (CELL_PRESENCE_TTL_SECONDS), so a cell paused for less than the
 * TTL less one heartbeat keeps its instances as before. One pass at a time: a kick during a pass
 * runs another right after it.
 */
@Injectable()
export class ConvergerService implements OnApplicationBootstrap, OnModuleDestroy {
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  /** A pass was asked for while one ran (it may have read the cells before the change). */
  private again = false;
  private watching = false;
  /** Cells live at the presence watch's last read; undefined until a first read as leader. */
  private lastLive?: Set<string>;
  private settlingLogged = false;

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly leader: LeaderElectionService,
    private readonly apps: AppsRepository,
    private readonly releases: ReleasesRepository,
    private readonly specsOfReleases: ReleaseSpecsService,
    private readonly instances: InstancesService,
    private readonly events: EventsService,
    private readonly redis: RedisService,
  ) {}

  onApplicationBootstrap(): void {
    this.timers.push(setInterval(() => void this.tick(), this.config.convergeIntervalMs));
    this.timers.push(setInterval(() => void this.watchPresence(), PRESENCE_WATCH_MS));
    for (const timer of this.timers) timer.unref();
  }

  onModuleDestroy(): void {
    for (const timer of this.timers) clearInterval(timer);
  }

  private async tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        if (!(await this.leader.tryLead())) return;
        // Redis lost its data: the cells are still re-reporting their instances, and an instance not
        // reported yet is not missing. Converging now would start duplicates of running instances.
        await this.redis.checkState();
        if (await this.redis.settling()) {
          if (!this.settlingLogged) this.logger.info({ event: 'convergence-paused' }, 'redis lost its data: convergence waits until the cells have re-reported');
          this.settlingLogged = true;
          return;
        }
        this.settlingLogged = false;
        await this.convergeAll();
      } while (this.again);
    } catch (error) {
      this.logger.warn({ err: error }, 'convergence-failed');
    } finally {
      this.running = false;
    }
  }

  /**
   * The presence watch (leader only; it also takes and renews the lease): a cell live at the last
   * read whose presence has expired since starts a pass now. A failed read is left to the next
   * one; the periodic pass remains.
   */
  private async watchPresence(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    try {
      // The lease is renewed here too, so it outlives a periodic interval longer than its TTL.
      if (!(await this.leader.tryLead())) {
        this.lastLive = undefined;
        return;
      }
      const { live, expired } = await readCellRegistry(this.redis.redis, this.redis.keys);
      const lost = newlyExpired(this.lastLive, expired);
      this.lastLive = new Set(live.map((c) => c.id));
      if (lost.length > 0) {
        this.logger.info({ cells: lost }, 'cell-presence-expired');
        void this.tick();
      }
    } catch {
      // Redis out of reach: the next read tries again.
    } finally {
      this.watching = false;
    }
  }

  /** One pass over every app; returns how many actions were taken (for tests). */
  async convergeAll(): Promise<number> {
    const cells = new Map<string, CellPresence>((await listLiveCells(this.redis.redis, this.redis.keys)).map((c) => [c.id, c]));
    let actions = 0;
    for (const id of await this.apps.convergeCandidates()) {
      // The app's row lock: a scale or a deployment of this app never interleaves with this pass.
      actions += await this.apps.whenConvergeable(id, () => this.convergeApp(id, cells), 0);
    }
    return actions;
  }

  private async convergeApp(appId: string, cells: Map<string, CellPresence>): Promise<number> {
    const app = await this.apps.find(appId);
    if (!app?.currentReleaseId || app.state !== 'STARTED') return 0;
    const release = await this.releases.find(app.currentReleaseId);
    if (!release) return 0;
    // Instance specs cost a routes query: built only in a pass that starts something.
    let specs: ProcessSpec[] | undefined;
    const actual = await this.instances.actual(app.id);
    const keys = this.redis.keys;
    let actions = 0;
    for (const process of await this.apps.processes(app.id)) {
      const crashes = await this.crashHistory(app.id, process.type);
      const plan = planConvergence({
        desired: { appId: app.id, processType: process.type, instances: process.instances, releaseId: release.id },
        actual,
        cells,
        crashes,
        now: Date.now(),
      });
      // The crash history first: if this pass is cut short after forgetting a crashed record, the
      // crash must still count (the record is gone, the history is what the backoff reads).
      for (const { index, history } of plan.crashed) await recordCrash(this.redis.redis, keys, app.id, process.type, index, history);
      for (const gone of plan.forget) {
        await unregisterEndpoint(this.redis.redis, keys, gone.appId, gone.processType, gone.instanceId);
        await forgetInstance(this.redis.redis, keys, gone.appId, gone.instanceId);
        // Events are the audit trail, not the state: a failure to record one never stops convergence.
        if (gone.state === 'CRASHED') {
          await this.events
            .record(SYSTEM_ACTOR, 'instance-crashed', target(app), { process_type: gone.processType, index: gone.index, reason: gone.reason ?? null })
            .catch((e) => this.logger.warn({ err: e }, 'event-not-recorded'));
        } else if (!cells.has(gone.cellId)) {
          await this.events
            .record(SYSTEM_ACTOR, 'instance-lost', target(app), { process_type: gone.processType, index: gone.index, cell_id: gone.cellId })
            .catch((e) => this.logger.warn({ err: e }, 'event-not-recorded'));
        }
      }
      for (const index of plan.resetCrashes) await resetCrash(this.redis.redis, keys, app.id, process.type, index);
      if (plan.start.length > 0) specs ??= await this.specsOfReleases.specsOf(app, release);
      const spec = specs?.find((s) => s.spec.processType === process.type)?.spec;
      if (spec && plan.start.length > 0) {
        const { placed, unplaced } = await this.instances.startMany(spec, plan.start.map((s) => s.index));
        await this.instances.clearUnplaced(app.id, process.type, placed.map((p) => p.index));
        await this.instances.markUnplaced(app.id, process.type, unplaced);
        for (const p of placed) {
          const reason = plan.start.find((s) => s.index === p.index)?.reason;
          this.logger.info({ app: app.name, type: process.type, index: p.index, reason }, 'instance-converged');
        }
        actions += placed.length;
      }
      for (const { instance, reason } of plan.stop) {
        await this.instances.stop(instance, reason);
        actions++;
      }
      // Indexes no longer desired cannot stay unplaced.
      await clearUnplacedBeyond(this.redis.redis, keys, app.id, process.type, process.instances);
    }
    return actions;
  }

  private async crashHistory(appId: string, processType: string): Promise<Map<number, CrashHistory>> {
    const out = new Map<number, CrashHistory>();
    for (const [field, history] of await readCrashHistories<CrashHistory>(this.redis.redis, this.redis.keys, appId)) {
      const [type, index] = field.split(':');
      if (type === processType) out.set(Number(index), history);
    }
    return out;
  }
}

function target(app: { id: string; name: string; spaceId: string }) {
  return { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId };
}
