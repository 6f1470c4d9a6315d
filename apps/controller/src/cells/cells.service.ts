import { Injectable } from '@nestjs/common';
import type { ActualInstance, CellPresence } from '@paas/contracts';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { notFound } from '../platform/common/domain.exception';
import { CellsRepository } from './cells.repository';

export interface CellView {
  id: string;
  address: string;
  zone: string;
  started_at: string;
  /** `live`, or `draining` (takes no new work; its instances are moving elsewhere). */
  state: 'live' | 'draining';
  capacity: { memory_mb: number; max_containers: number };
  /** Memory the cell itself reports as reserved by what it runs. */
  used_memory_mb: number;
  /** Instances the controller knows on this cell, by state (from the apps' actual state). */
  instances: { total: number; starting: number; running: number; stopping: number; crashed: number; stopped: number };
  /** Instances the cell counted itself in its last heartbeat. */
  reported_instances: number;
  /** Memory reserved by the instances placed here (their processes' memory_mb). */
  allocated_memory_mb: number;
  /** The apps running here that the caller can see, with their instance counts. */
  apps: Array<{ id: string; name: string; instances: number }>;
}

/**
 * Read-only view of the live cells: capacity (their heartbeat) and what runs on them (the
 * instances they report). Any authenticated user may read it; the apps listed per cell are only
 * those the caller can see, the counts cover everything.
 */
@Injectable()
export class CellsService {
  constructor(
    private readonly cells: CellsRepository,
    private readonly access: AccessService,
  ) {}

  async list(actor: Actor): Promise<CellView[]> {
    const [cells, instances] = await Promise.all([this.cells.liveCells(), this.cells.allInstances()]);
    const facts = await this.cells.appFacts([...new Set(instances.map((i) => i.appId))]);
    const visible = await this.access.visibleSpaceIds(actor);
    return cells.map((cell) => this.view(cell, instances.filter((i) => i.cellId === cell.id), facts, visible));
  }

  async get(actor: Actor, id: string): Promise<CellView> {
    const cell = (await this.list(actor)).find((c) => c.id === id);
    if (!cell) throw notFound('live cell', id, 'list the live cells with GET /v1/cells');
    return cell;
  }

  private view(
    cell: CellPresence,
    instances: ActualInstance[],
    facts: Awaited<ReturnType<CellsRepository['appFacts']>>,
    visible: string[] | undefined,
  ): CellView {
    const count = (state: ActualInstance['state']) => instances.filter((i) => i.state === state).length;
    const perApp = new Map<string, number>();
    let allocated = 0;
    for (const i of instances) {
      perApp.set(i.appId, (perApp.get(i.appId) ?? 0) + 1);
      if (i.state !== 'STOPPED') allocated += facts.get(i.appId)?.memoryMb.get(i.processType) ?? 0;
    }
    const apps = [...perApp.entries()]
      .flatMap(([id, n]) => {
        const app = facts.get(id);
        return app && (!visible || visible.includes(app.spaceId)) ? [{ id, name: app.name, instances: n }] : [];
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    return {
      id: cell.id,
      address: cell.address,
      zone: cell.zone,
      started_at: cell.startedAt,
      state: cell.state,
      used_memory_mb: cell.usedMemoryMb,
      capacity: { memory_mb: cell.capacity.memoryMb, max_containers: cell.capacity.maxContainers },
      instances: { total: instances.length, starting: count('STARTING'), running: count('RUNNING'), stopping: count('STOPPING'), crashed: count('CRASHED'), stopped: count('STOPPED') },
      reported_instances: cell.instances,
      allocated_memory_mb: allocated,
      apps,
    };
  }
}
