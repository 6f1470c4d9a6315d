import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { ActualInstance } from '@paas/contracts';
import { listAppInstances, listLiveCells, unregisterAppEndpoints, forgetInstance } from '@paas/redis';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { DomainException, ErrorCode } from '../common/domain.exception';
import { RedisService } from '../redis/redis.module';
import { CellQueuesService } from './cell-queues.service';
import { pickCell } from './placement';

export interface ReleaseToRun {
  appId: string;
  appName: string;
  releaseId: string;
  dropletId: string;
  dropletUrl: string;
  startCommand: string;
  memoryMb: number;
  instances: number;
}

/** Starts a release's instances on cells, waits for them to be healthy, and stops old ones. */
@Injectable()
export class DeployerService {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly redis: RedisService,
    private readonly queues: CellQueuesService,
  ) {}

  hostOf(appName: string): string {
    return `${appName}.${this.config.appsDomain}`;
  }

  /** Places and starts `instances` new instances of a release; returns their ids. */
  async startRelease(release: ReleaseToRun): Promise<string[]> {
    const cells = await listLiveCells(this.redis.redis, this.redis.keys);
    const perCell = new Map<string, number>();
    for (const i of await listAppInstances(this.redis.redis, this.redis.keys, release.appId)) {
      perCell.set(i.cellId, (perCell.get(i.cellId) ?? 0) + 1);
    }
    const ids: string[] = [];
    for (let index = 0; index < release.instances; index++) {
      const cell = pickCell(cells, perCell);
      if (!cell) {
        throw new DomainException(ErrorCode.NoCellAvailable, 'no cell has room for the instance: start a cell or free capacity');
      }
      const instanceId = randomBytes(8).toString('hex');
      await this.queues.startInstance(cell.id, {
        instanceId,
        appId: release.appId,
        appName: release.appName,
        releaseId: release.releaseId,
        index,
        dropletId: release.dropletId,
        dropletUrl: release.dropletUrl,
        startCommand: release.startCommand,
        memoryMb: release.memoryMb,
        env: {},
        routes: [this.hostOf(release.appName)],
      });
      perCell.set(cell.id, (perCell.get(cell.id) ?? 0) + 1);
      cell.instances += 1;
      ids.push(instanceId);
    }
    return ids;
  }

  /**
   * Waits until every given instance is RUNNING; fails fast when one crashes.
   * Returns the instances, or throws with the reason.
   */
  async waitRunning(appId: string, instanceIds: string[], onProgress?: (line: string) => void): Promise<ActualInstance[]> {
    const deadline = Date.now() + this.config.startTimeoutMs;
    let lastRunning = -1;
    while (Date.now() < deadline) {
      const all = await listAppInstances(this.redis.redis, this.redis.keys, appId);
      const mine = all.filter((i) => instanceIds.includes(i.instanceId));
      const crashed = mine.find((i) => i.state === 'CRASHED');
      if (crashed) {
        throw new DomainException(
          ErrorCode.StagingFailed,
          `instance ${crashed.index} crashed on start: ${crashed.reason ?? 'unknown reason'}`,
        );
      }
      const running = mine.filter((i) => i.state === 'RUNNING');
      if (running.length !== lastRunning) {
        onProgress?.(`${running.length} of ${instanceIds.length} instances running`);
        lastRunning = running.length;
      }
      if (running.length === instanceIds.length) return running;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new DomainException(
      ErrorCode.StagingFailed,
      `instances did not become healthy within ${this.config.startTimeoutMs / 1000}s: does the app listen on $PORT?`,
    );
  }

  /** Stops the app's instances except `keep`; routes are withdrawn by each cell before it stops. */
  async stopInstances(appId: string, keep: readonly string[], reason: string): Promise<ActualInstance[]> {
    const all = await listAppInstances(this.redis.redis, this.redis.keys, appId);
    const stopping = all.filter((i) => !keep.includes(i.instanceId));
    for (const instance of stopping) {
      await this.queues.stopInstance(instance.cellId, { instanceId: instance.instanceId, appId, reason });
    }
    return stopping;
  }

  /** Stops exactly the given instances (a failed deploy's new ones); the others keep running. */
  async stopOnly(appId: string, instanceIds: readonly string[], reason: string): Promise<void> {
    const all = await listAppInstances(this.redis.redis, this.redis.keys, appId);
    for (const instance of all.filter((i) => instanceIds.includes(i.instanceId))) {
      await this.queues.stopInstance(instance.cellId, { instanceId: instance.instanceId, appId, reason });
    }
  }

  /** Waits (bounded) until the given instances are gone from the actual state. */
  async waitGone(appId: string, instanceIds: string[], timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const all = await listAppInstances(this.redis.redis, this.redis.keys, appId);
      if (!all.some((i) => instanceIds.includes(i.instanceId))) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  /** Withdraws every route endpoint of an app: the routers stop sending it traffic at once. */
  async withdrawRoutes(appId: string, appName: string): Promise<void> {
    await unregisterAppEndpoints(this.redis.redis, this.redis.keys, this.hostOf(appName), appId);
  }

  /** Deletes every trace of an app in Redis: its routes and its instance records. */
  async forgetApp(appId: string, appName: string): Promise<void> {
    await this.withdrawRoutes(appId, appName);
    for (const i of await listAppInstances(this.redis.redis, this.redis.keys, appId)) {
      await forgetInstance(this.redis.redis, this.redis.keys, appId, i.instanceId);
    }
  }
}
