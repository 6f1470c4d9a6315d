import { Injectable } from '@nestjs/common';
import { Prisma } from '../../generated/prisma/client';
import type { ServiceInstance } from '../../generated/prisma/client';
import { PrismaService } from '../../platform/database/prisma.service';
import type { Credentials } from '../provided-credentials';

/** The records of user-provided instances: created succeeded at once, updated in place. */
@Injectable()
export class UserProvidedInstancesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Records one `create succeeded`; undefined when the space has an instance of that name. */
  async create(data: { spaceId: string; name: string; credentials: Credentials; tags: string[] }): Promise<ServiceInstance | undefined> {
    try {
      return await this.prisma.serviceInstance.create({
        data: {
          ...data,
          type: 'user-provided',
          offering: 'user-provided',
          plan: '',
          memoryMb: 0,
          diskMb: 0,
          adminUser: '',
          adminPassword: '',
          operationType: 'create',
          operationState: 'succeeded',
        },
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  /** Sets what is given and records `update succeeded`; false when the new name is taken in its space. */
  async update(id: string, change: { name?: string; credentials?: Credentials; tags?: string[] }): Promise<boolean> {
    try {
      await this.prisma.serviceInstance.update({
        where: { id },
        data: {
          ...(change.name !== undefined ? { name: change.name } : {}),
          ...(change.credentials ? { credentials: change.credentials } : {}),
          ...(change.tags ? { tags: change.tags } : {}),
          operationType: 'update',
          operationState: 'succeeded',
          operationDescription: null,
          operationUpdatedAt: new Date(),
        },
      });
      return true;
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return false;
      throw error;
    }
  }
}
