import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { ActualInstance, StartInstanceJob } from '@paas/contracts';
import {
  bookPlacement,
  clearUnplaced,
  forgetAppCrashes,
  forgetAppEndpoints,
  forgetInstance,
  forgetUnplacedReasons,
  listAppInstances,
  listLiveCells,
  markUnplaced,
  readCrashHistories,
  readRecentPlacements,
  readUnplacedReasons,
  reportInstance,
  unbookPlacement,
} from '@paas/redis';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { RedisService } from '../platform/redis/redis.module';
import { CellQueuesService } from './cell-queues.service';
import { SecurityGroupsService } from '../security-groups/security-groups.service';
import { placeInstance, reserve } from '@paas/scheduling';

/** A placement counts against its cell this long, until the cell's own presence reports it. */
const RECENT_PLACEMENT_WINDOW_MS = 6_000;

/** Everything an instance needs but its id and index; its egress rules are read from its space at placement. */
export type InstanceSpec = Omit<StartInstanceJob, 'instanceId' | 'index'>;

/** Places instances on cells, stops them, and reads their actual state (as the cells report it). */
@Injectable()
export class InstancesService {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly redis: RedisService,
    private readonly queues: CellQueuesService,
    private readonly securityGroups: SecurityGroupsService,
  ) {}

  /** The actual state, for work that can wait: while Redis is unreachable it waits for it. */
  actual(appId: string): Promise<ActualInstance[]> {
    return listAppInstances(this.redis.redis, this.redis.keys, appId);
  }

  /** The actual state, for an API answer: fails at once (503 redis-unavailable) while Redis is out of reach. */
  observed(appId: string): Promise<ActualInstance[]> {
    return listAppInstances(this.redis.reads, this.redis.keys, appId);
  }

  /**
   * Places several instances of one process: the cells are read once and every placement is
   * booked on that view, so a batch never overfills a cell whose presence has not caught up yet.
   */
  async startMany(spec: InstanceSpec, indexes: readonly number[]): Promise<{ placed: Array<{ index: number; instanceId: string }>; unplaced: Array<{ index: number; reason: string }> }> {
    const cells = await listLiveCells(this.redis.redis, this.redis.keys);
    const byId = new Map(cells.map((c) => [c.id, c]));
    const perCell = new Map<string, number>();
    const perZone = new Map<string, number>();
    for (const i of await this.actual(spec.appId)) {
      perCell.set(i.cellId, (perCell.get(i.cellId) ?? 0) + 1);
      const zone = byId.get(i.cellId)?.zone;
      if (zone) perZone.set(zone, (perZone.get(zone) ?? 0) + 1);
    }
    // Instances placed moments ago may not be in the cells' presence yet: book them.
    for (const [cellId, count] of await readRecentPlacements(this.redis.redis, this.redis.keys, Date.now() - RECENT_PLACEMENT_WINDOW_MS)) {
      const cell = byId.get(cellId);
      if (cell) {
        cell.instances += count.instances;
        cell.usedMemoryMb += count.memoryMb;
      }
    }
    const placed: Array<{ index: number; instanceId: string }> = [];
    const unplaced: Array<{ index: number; reason: string }> = [];
    // The space's running rules as they are now: a binding change reaches an app when its instances next start.
    const egress = indexes.length ? await this.securityGroups.rulesFor(spec.spaceId, 'running') : [];
    for (const index of indexes) {
      const choice = placeInstance(cells, spec.memoryMb, { perCell, perZone });
      if ('reason' in choice) {
        unplaced.push({ index, reason: choice.reason });
        continue;
      }
      reserve(choice.cell, spec.memoryMb, { perCell, perZone });
      const instanceId = randomBytes(8).toString('hex');
      await bookPlacement(this.redis.redis, this.redis.keys, { cellId: choice.cell.id, memoryMb: spec.memoryMb, instanceId });
      // Recorded before the cell sees the job, so a concurrent reconcile counts it and never places
      // a second instance for the same index; the cell overwrites it with what it observes.
      await reportInstance(this.redis.redis, this.redis.keys, {
        instanceId,
        appId: spec.appId,
        appName: spec.appName,
        releaseId: spec.releaseId,
        processType: spec.processType,
        index,
        cellId: choice.cell.id,
        state: 'STARTING',
        since: new Date().toISOString(),
        crashCount: 0,
        memoryMb: spec.memoryMb,
        diskMb: spec.diskMb,
      });
      await this.queues.startInstance(choice.cell.id, { ...spec, egress, instanceId, index });
      placed.push({ index, instanceId });
    }
    return { placed, unplaced };
  }

  /** Records (or clears, for placed indexes) why instances could not be placed. */
  async markUnplaced(appId: string, processType: string, unplaced: Array<{ index: number; reason: string }>): Promise<void> {
    await markUnplaced(this.redis.redis, this.redis.keys, appId, processType, unplaced);
  }

  async clearUnplaced(appId: string, processType: string, indexes: number[]): Promise<void> {
    await clearUnplaced(this.redis.redis, this.redis.keys, appId, processType, indexes);
  }

  async stop(instance: ActualInstance, reason: string): Promise<void> {
    await this.queues.stopInstance(instance.cellId, { instanceId: instance.instanceId, appId: instance.appId, reason });
    // A stopped instance no longer holds room on its cell: drop its booking, if it is still recent,
    // so a scale-down followed by a placement does not see cells fuller than they are.
    await unbookPlacement(this.redis.redis, this.redis.keys, instance.instanceId);
  }

  /** Crash history and unplaced reasons per `${processType}:${index}` of an app, for the API (fails fast, as `observed`). */
  async history(appId: string): Promise<{ crashes: Map<string, { count: number; reason: string }>; unplaced: Map<string, string> }> {
    const [crashes, unplaced] = await Promise.all([
      readCrashHistories<{ count: number; reason: string }>(this.redis.reads, this.redis.keys, appId),
      readUnplacedReasons(this.redis.reads, this.redis.keys, appId),
    ]);
    const parsed = new Map<string, { count: number; reason: string }>();
    for (const [field, h] of crashes) if (h) parsed.set(field, { count: h.count, reason: h.reason });
    return { crashes: parsed, unplaced };
  }

  /** Waits (bounded) until the given instances are gone from the actual state. */
  async waitGone(appId: string, ids: readonly string[], timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!(await this.actual(appId)).some((i) => ids.includes(i.instanceId))) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  /** Withdraws the app's endpoints from the routers (instances keep running until stopped). */
  async forgetAppEndpointsOnly(appId: string, processTypes: string[]): Promise<void> {
    await forgetAppEndpoints(this.redis.redis, this.redis.keys, appId, processTypes);
  }

  /** Removes every trace of an app from Redis: endpoints and instance records. */
  async forgetApp(appId: string, processTypes: string[]): Promise<void> {
    await forgetAppEndpoints(this.redis.redis, this.redis.keys, appId, processTypes);
    for (const i of await this.actual(appId)) await forgetInstance(this.redis.redis, this.redis.keys, appId, i.instanceId);
    await forgetAppCrashes(this.redis.redis, this.redis.keys, appId);
    await forgetUnplacedReasons(this.redis.redis, this.redis.keys, appId);
  }

  get startTimeoutMs(): number {
    return this.config.startTimeoutMs;
  }
}
