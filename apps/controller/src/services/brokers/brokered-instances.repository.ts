import { Injectable } from '@nestjs/common';
import { Prisma } from '../../generated/prisma/client';
import type { Org, ServiceBroker, ServiceInstance, Space } from '../../generated/prisma/client';
import { PrismaService } from '../../platform/database/prisma.service';
import { SERVICE_INSTANCE_INCLUDE, type ServiceInstanceRecord } from '../service-instances.repository';

/** A brokered instance with its broker (login, catalog) and its space and org (the OSB context). */
export type BrokeredInstance = ServiceInstance & { broker: ServiceBroker; space: Space & { org: Org } };

/** The records of brokered instances: created, their broker's operation followed, finished. */
@Injectable()
export class BrokeredInstancesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Records a new brokered instance in `create in progress`; undefined when the space has one of that name. */
  async create(data: {
    spaceId: string;
    name: string;
    offering: string;
    plan: string;
    tags: string[];
    brokerId: string;
    brokerServiceId: string;
    brokerPlanId: string;
    description: string;
  }): Promise<ServiceInstanceRecord | undefined> {
    const { description, ...fields } = data;
    try {
      return await this.prisma.serviceInstance.create({
        data: {
          ...fields,
          type: 'brokered',
          memoryMb: 0,
          diskMb: 0,
          adminUser: '',
          adminPassword: '',
          operationType: 'create',
          operationState: 'in progress',
          operationDescription: description,
        },
        include: SERVICE_INSTANCE_INCLUDE,
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  /** The brokered instance `id` with its broker; null when it is not one (or gone). */
  async find(id: string): Promise<BrokeredInstance | null> {
    const found = await this.prisma.serviceInstance.findUnique({ where: { id }, include: { broker: true, space: { include: { org: true } } } });
    return found && found.broker ? (found as BrokeredInstance) : null;
  }

  /**
   * Sets the outcome of the operation `type` in progress (and what the broker gave), unless the
   * operation changed meanwhile: true when it did. `operation` null: the broker is not asked any more.
   */
  async finish(
    id: string,
    type: 'create' | 'delete',
    outcome: { state: 'in progress' | 'succeeded' | 'failed'; description: string | null; operation?: string | null; dashboardUrl?: string | null },
  ): Promise<boolean> {
    const { count } = await this.prisma.serviceInstance.updateMany({
      where: { id, operationType: type, operationState: 'in progress' },
      data: {
        operationState: outcome.state,
        operationDescription: outcome.description,
        ...(outcome.state !== 'in progress' ? { operationUpdatedAt: new Date() } : {}),
        ...(outcome.operation !== undefined ? { brokerOperation: outcome.operation } : {}),
        ...(outcome.dashboardUrl !== undefined ? { dashboardUrl: outcome.dashboardUrl } : {}),
      },
    });
    return count === 1;
  }

  /** Starts a delete: `delete in progress`, the broker's operation to poll. */
  async beginDelete(id: string, description: string, operation: string): Promise<void> {
    await this.prisma.serviceInstance.updateMany({
      where: { id },
      data: { operationType: 'delete', operationState: 'in progress', operationDescription: description, operationUpdatedAt: new Date(), brokerOperation: operation },
    });
  }
}
