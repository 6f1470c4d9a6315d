import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import type { Org, ServiceInstance, Space } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';

/** An instance with what its view shows: its space and org, and the names of the apps bound to it. */
export type ServiceInstanceRecord = ServiceInstance & { space: Space & { org: Org }; bindings: Array<{ app: { id: string; name: string } }> };

export interface ServiceOperation {
  type: 'create' | 'update' | 'delete' | 'restore';
  state: 'in progress' | 'succeeded' | 'failed';
  description: string | null;
}

const INCLUDE = {
  space: { include: { org: true } },
  bindings: { select: { app: { select: { id: true, name: true } } }, orderBy: { createdAt: 'asc' } },
} satisfies Prisma.ServiceInstanceInclude;

/** Service instances as the controller records them (desired state, placement, last operation). */
@Injectable()
export class ServiceInstancesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Records a new instance in `create in progress`; undefined when the space has one of that name. */
  async create(data: {
    id: string;
    spaceId: string;
    name: string;
    offering: string;
    plan: string;
    memoryMb: number;
    diskMb: number;
    cellId: string;
    adminUser: string;
    adminPassword: string;
    description: string;
    /** A create from a backup: restored once the server is prepared. */
    restoreBackupId?: string;
  }): Promise<ServiceInstanceRecord | undefined> {
    const { description, ...fields } = data;
    try {
      return await this.prisma.serviceInstance.create({
        data: { ...fields, operationType: 'create', operationState: 'in progress', operationDescription: description },
        include: INCLUDE,
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  find(id: string, tx: Prisma.TransactionClient = this.prisma): Promise<ServiceInstanceRecord | null> {
    return tx.serviceInstance.findUnique({ where: { id }, include: INCLUDE });
  }

  /** Instances of that name in the given spaces (undefined: every space). */
  named(name: string, spaceIds: string[] | undefined): Promise<ServiceInstanceRecord[]> {
    return this.prisma.serviceInstance.findMany({
      where: { name, ...(spaceIds ? { spaceId: { in: spaceIds } } : {}) },
      include: INCLUDE,
      orderBy: { createdAt: 'asc' },
    });
  }

  list(filter: { spaceIds?: string[]; names?: string[] }): Promise<ServiceInstanceRecord[]> {
    return this.prisma.serviceInstance.findMany({
      where: {
        ...(filter.spaceIds ? { spaceId: { in: filter.spaceIds } } : {}),
        ...(filter.names ? { name: { in: filter.names } } : {}),
      },
      include: INCLUDE,
      orderBy: [{ name: 'asc' }, { id: 'asc' }],
    });
  }

  /** Instances whose last operation is still in progress (the provisioning pass finishes them). */
  inProgress(): Promise<ServiceInstanceRecord[]> {
    return this.prisma.serviceInstance.findMany({ where: { operationState: 'in progress' }, include: INCLUDE, orderBy: { createdAt: 'asc' } });
  }

  /** Instances that were created and are not being deleted (restored or resized since, or being so): their cell keeps them running. */
  created(): Promise<ServiceInstanceRecord[]> {
    return this.prisma.serviceInstance.findMany({
      where: { NOT: [{ operationType: 'delete' }, { operationType: 'create', operationState: { not: 'succeeded' } }] },
      include: INCLUDE,
    });
  }

  /** Marks the instance `restore in progress` of `backupId`, unless another operation is in progress: true when it did. */
  async startRestore(id: string, backupId: string, description: string): Promise<boolean> {
    const { count } = await this.prisma.serviceInstance.updateMany({
      where: { id, operationState: { not: 'in progress' }, NOT: [{ operationType: 'delete' }, { operationType: 'create', operationState: 'failed' }] },
      data: { operationType: 'restore', operationState: 'in progress', operationDescription: description, operationUpdatedAt: new Date(), restoreBackupId: backupId },
    });
    return count === 1;
  }

  /** Ends the restore of `backupId` in progress; false when something else changed the operation meanwhile. */
  async finishRestore(id: string, backupId: string, outcome: { state: 'succeeded' | 'failed'; description: string }): Promise<boolean> {
    const { count } = await this.prisma.serviceInstance.updateMany({
      where: { id, operationType: 'restore', operationState: 'in progress', restoreBackupId: backupId },
      data: { operationState: outcome.state, operationDescription: outcome.description, operationUpdatedAt: new Date() },
    });
    return count === 1;
  }

  /** Renames; false when the space has another instance of that name. */
  async rename(id: string, name: string): Promise<boolean> {
    try {
      await this.prisma.serviceInstance.update({ where: { id }, data: { name } });
      return true;
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return false;
      throw error;
    }
  }

  async setOperation(id: string, operation: ServiceOperation): Promise<void> {
    await this.prisma.serviceInstance.updateMany({
      where: { id },
      data: { operationType: operation.type, operationState: operation.state, operationDescription: operation.description, operationUpdatedAt: new Date() },
    });
  }

  /**
   * Moves an instance from `create in progress` to its outcome, unless something else changed its
   * operation meanwhile (a delete asked while the pass prepared it): true when it did.
   */
  async finishCreate(id: string, outcome: { state: 'succeeded' | 'failed'; description: string | null; endpoint?: { host: string; port: number } }): Promise<boolean> {
    const { count } = await this.prisma.serviceInstance.updateMany({
      where: { id, operationType: 'create', operationState: 'in progress' },
      data: {
        operationState: outcome.state,
        operationDescription: outcome.description,
        operationUpdatedAt: new Date(),
        ...(outcome.endpoint ? { host: outcome.endpoint.host, port: outcome.endpoint.port } : {}),
      },
    });
    return count === 1;
  }

  /** A description of what an operation in progress waits for (its state unchanged). */
  async describe(id: string, description: string): Promise<void> {
    await this.prisma.serviceInstance.updateMany({ where: { id, operationState: 'in progress' }, data: { operationDescription: description } });
  }

  async setEndpoint(id: string, endpoint: { host: string; port: number }): Promise<void> {
    await this.prisma.serviceInstance.updateMany({ where: { id }, data: { host: endpoint.host, port: endpoint.port } });
  }

  /** Removes the record; false when bindings still hold it (they go first) or it is gone already. */
  async delete(id: string): Promise<boolean> {
    try {
      const { count } = await this.prisma.serviceInstance.deleteMany({ where: { id } });
      return count === 1;
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003') return false;
      throw error;
    }
  }
}
