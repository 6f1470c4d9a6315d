import { Injectable } from '@nestjs/common';
import { serviceJobId, type CellPresence, type ServiceState, type StartServiceJob } from '@paas/contracts';
import { bookPlacement, listLiveCells, readRecentPlacements, readServiceStates } from '@paas/redis';
import { placeInstance } from '@paas/scheduling';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import { RedisService } from '../platform/redis/redis.module';
import { CellQueuesService } from '../placement/cell-queues.service';
import type { ServiceInstance } from '../generated/prisma/client';
import { kindOf } from './service-admin.service';

/** A placement counts against its cell this long, until the cell's own presence reports it (as for app instances). */
const RECENT_PLACEMENT_WINDOW_MS = 6_000;

/**
 * Service instances and the cells that run them: placement on a live cell with room, the
 * start-service / delete-service jobs on that cell's queue, and what the cells report (their
 * presence, their ServiceState reports). `fast` reads (API answers) fail at once while Redis is
 * out of reach; the others wait for it.
 */
@Injectable()
export class ServiceCellsService {
  constructor(
    private readonly redis: RedisService,
    private readonly queues: CellQueuesService,
  ) {}

  /** A live, not draining cell with room for `memoryMb`, booked for the instance; 422 saying why when there is none. */
  async place(instanceId: string, memoryMb: number): Promise<string> {
    const cells = await this.liveCellsWithBookings();
    const choice = placeInstance(cells, memoryMb, { perCell: new Map(), perZone: new Map() });
    if ('reason' in choice) throw new DomainException(ErrorCode.NoCellAvailable, `no cell can run the service instance: ${choice.reason}`);
    await bookPlacement(this.redis.redis, this.redis.keys, { cellId: choice.cell.id, memoryMb, instanceId });
    return choice.cell.id;
  }

  /**
   * Books `addedMb` more on the instance's own cell (a resize to a plan with more memory), as a
   * placement is booked; 422 saying how much is free when the cell has not that much room, or
   * when the cell is draining or gone.
   */
  async grow(instance: { id: string; name: string; cellId: string }, addedMb: number, plan: string): Promise<void> {
    const cell = (await this.liveCellsWithBookings()).find((c) => c.id === instance.cellId);
    if (!cell) throw new DomainException(ErrorCode.NoCellAvailable, `cell ${instance.cellId} of ${instance.name} is not live: resize it once the cell is back`);
    const free = cell.capacity.memoryMb - cell.usedMemoryMb;
    if (cell.state === 'draining' || free < addedMb) {
      const why = cell.state === 'draining' ? 'is draining' : `has ${Math.max(free, 0)} MB of memory free`;
      throw new DomainException(
        ErrorCode.NoCellAvailable,
        `cell ${cell.id}, where ${instance.name} lives (its data is on that cell's volume), ${why} and plan ${plan} needs ${addedMb} MB more: free memory there (stop or scale down apps on it) or create a new instance of plan ${plan} from a backup`,
      );
    }
    await bookPlacement(this.redis.redis, this.redis.keys, { cellId: cell.id, memoryMb: addedMb, instanceId: instance.id });
  }

  /** The live cells, with the placements booked lately (and not yet in their presence) counted against them. */
  private async liveCellsWithBookings(): Promise<CellPresence[]> {
    const cells = await listLiveCells(this.redis.redis, this.redis.keys);
    for (const [cellId, booked] of await readRecentPlacements(this.redis.redis, this.redis.keys, Date.now() - RECENT_PLACEMENT_WINDOW_MS)) {
      const cell = cells.find((c) => c.id === cellId);
      if (cell) {
        cell.instances += booked.instances;
        cell.usedMemoryMb += booked.memoryMb;
      }
    }
    return cells;
  }

  async liveCellIds(options: { fast?: boolean } = {}): Promise<Set<string>> {
    return new Set((await listLiveCells(options.fast ? this.redis.reads : this.redis.redis, this.redis.keys)).map((c) => c.id));
  }

  reports(instanceIds: readonly string[], options: { fast?: boolean } = {}): Promise<Map<string, ServiceState>> {
    return readServiceStates(options.fast ? this.redis.reads : this.redis.redis, this.redis.keys, instanceIds);
  }

  /** Queues the instance's start-service job on its cell; `again` replaces a finished one (see CellQueuesService.startService). */
  async start(instance: ServiceInstance & { cellId: string }, options: { again?: boolean } = {}): Promise<void> {
    const job: StartServiceJob = {
      serviceInstanceId: instance.id,
      kind: kindOf(instance),
      memoryMb: instance.memoryMb,
      diskMb: instance.diskMb,
      adminUser: instance.adminUser,
      adminPassword: instance.adminPassword,
      spaceId: instance.spaceId,
    };
    await this.queues.startService(instance.cellId, job, options);
  }

  async delete(instance: ServiceInstance & { cellId: string }): Promise<void> {
    await this.queues.deleteService(instance.cellId, { serviceInstanceId: instance.id });
  }

  /** Queues the resize of an update in progress (its operation time, in ms, names the job). */
  async update(instance: ServiceInstance & { cellId: string }, sizes: { memoryMb: number; diskMb: number }, operationMs: number): Promise<void> {
    await this.queues.updateService(instance.cellId, { serviceInstanceId: instance.id, ...sizes }, operationMs);
  }

  updateJob(instance: ServiceInstance & { cellId: string }) {
    return this.queues.jobState(instance.cellId, serviceJobId.update(instance.id, instance.operationUpdatedAt.getTime()));
  }

  startJob(instance: ServiceInstance & { cellId: string }) {
    return this.queues.jobState(instance.cellId, serviceJobId.start(instance.id));
  }

  deleteJob(instance: ServiceInstance & { cellId: string }) {
    return this.queues.jobState(instance.cellId, serviceJobId.delete(instance.id));
  }
}
