import { Injectable } from '@nestjs/common';
import { PrismaService } from '../platform/database/prisma.service';

/**
 * The writes of an update (a resize to another plan, the backup retention) on service instances'
 * records. A resize in progress keeps the plan in force (plan, memoryMb, diskMb) and names the
 * plan asked for in `updatePlan`; each step is conditional on the operation it changes, so two
 * requests (or two controllers' passes) cannot both win.
 */
@Injectable()
export class ServiceUpdatesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Moves the instance to `update in progress` towards `plan`, at `at`; false when an operation is in progress meanwhile. */
  async startResize(id: string, resize: { plan: string; description: string; at: Date }): Promise<boolean> {
    const { count } = await this.prisma.serviceInstance.updateMany({
      where: { id, operationState: { not: 'in progress' } },
      data: { updatePlan: resize.plan, operationType: 'update', operationState: 'in progress', operationDescription: resize.description, operationUpdatedAt: resize.at },
    });
    return count === 1;
  }

  /**
   * Ends the resize towards `updatePlan` (as recorded): succeeded puts that plan and its sizes in
   * force; failed leaves the old ones. Either way `updatePlan` is cleared. False when the
   * operation changed meanwhile.
   */
  async finishResize(id: string, updatePlan: string | null, outcome: { state: 'succeeded'; memoryMb: number; diskMb: number } | { state: 'failed'; description: string }): Promise<boolean> {
    const { count } = await this.prisma.serviceInstance.updateMany({
      where: { id, operationType: 'update', operationState: 'in progress', updatePlan },
      data: {
        updatePlan: null,
        operationState: outcome.state,
        operationUpdatedAt: new Date(),
        ...(outcome.state === 'succeeded' && updatePlan !== null
          ? { plan: updatePlan, memoryMb: outcome.memoryMb, diskMb: outcome.diskMb, operationDescription: null }
          : { operationDescription: outcome.state === 'failed' ? outcome.description : null }),
      },
    });
    return count === 1;
  }

  async setBackupRetention(id: string, retention: number): Promise<void> {
    await this.prisma.serviceInstance.updateMany({ where: { id }, data: { backupRetention: retention } });
  }
}
