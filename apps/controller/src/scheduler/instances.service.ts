import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { ActualInstance, StartInstanceJob } from '@paas/contracts';
import { forgetAppEndpoints, forgetInstance, listAppInstances, listLiveCells, reportInstance } from '@paas/redis';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { DomainException, ErrorCode } from '../common/domain.exception';
import { RedisService } from '../redis/redis.module';
import { CellQueuesService } from './cell-queues.service';
import { pickCell } from './placement';

/** Everything an instance needs but its id and index. */
export type InstanceSpec = Omit<StartInstanceJob, 'instanceId' | 'index'>;

/** Places instances on cells, stops them, and reads their actual state (as the cells report it). */
@Injectable()
export class InstancesService {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly redis: RedisService,
    private readonly queues: CellQueuesService,
  ) {}

  actual(appId: string): Promise<ActualInstance[]> {
    return listAppInstances(this.redis.redis, this.redis.keys, appId);
  }

  /** Places one instance on the best live cell and queues its start; returns its id. */
  async start(spec: InstanceSpec, index: number): Promise<string> {
    const cells = await listLiveCells(this.redis.redis, this.redis.keys);
    const perCell = new Map<string, number>();
    for (const i of await this.actual(spec.appId)) perCell.set(i.cellId, (perCell.get(i.cellId) ?? 0) + 1);
    const cell = pickCell(cells, perCell);
    if (!cell) {
      throw new DomainException(
        ErrorCode.NoCellAvailable,
        cells.length === 0 ? 'no cell is running: start a cell' : 'every cell is full: start another cell or stop some apps',
      );
    }
    const instanceId = randomBytes(8).toString('hex');
    // Recorded before the cell sees the job, so a concurrent reconcile counts it and never places
    // a second instance for the same index; the cell overwrites it with what it observes.
    await reportInstance(this.redis.redis, this.redis.keys, {
      instanceId,
      appId: spec.appId,
      appName: spec.appName,
      releaseId: spec.releaseId,
      processType: spec.processType,
      index,
      cellId: cell.id,
      state: 'STARTING',
      since: new Date().toISOString(),
      crashCount: 0,
    });
    await this.queues.startInstance(cell.id, { ...spec, instanceId, index });
    return instanceId;
  }

  async stop(instance: ActualInstance, reason: string): Promise<void> {
    await this.queues.stopInstance(instance.cellId, { instanceId: instance.instanceId, appId: instance.appId, reason });
  }

  /**
   * Waits until every given instance is RUNNING; throws as soon as one crashes (with its reason)
   * or when the timeout passes.
   */
  async waitRunning(appId: string, ids: readonly string[], timeoutMs: number, onProgress?: (line: string) => void): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    while (Date.now() < deadline) {
      const mine = (await this.actual(appId)).filter((i) => ids.includes(i.instanceId));
      const crashed = mine.find((i) => i.state === 'CRASHED');
      if (crashed) {
        throw new DomainException(ErrorCode.StagingFailed, `instance ${crashed.index} crashed on start: ${crashed.reason ?? 'unknown reason'}`);
      }
      const running = mine.filter((i) => i.state === 'RUNNING').length;
      if (running !== last) onProgress?.(`${running} of ${ids.length} new instance(s) running`);
      last = running;
      if (running === ids.length) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new DomainException(
      ErrorCode.StagingFailed,
      `new instances did not become healthy within ${Math.round(timeoutMs / 1000)}s: does the app listen on $PORT?`,
    );
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
  }

  get startTimeoutMs(): number {
    return this.config.startTimeoutMs;
  }
}
