import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import type { ServiceKey } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';

/** Service keys (`paas create-service-key`): a login of their own on a managed instance's server, recorded with the credentials given out. */
@Injectable()
export class ServiceKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Records a key; undefined when the instance has a key of that name. */
  async create(data: { id: string; serviceInstanceId: string; name: string; username: string; password: string; credentials: Record<string, string | number> }): Promise<ServiceKey | undefined> {
    try {
      return await this.prisma.serviceKey.create({ data });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  /** The instance's keys, by name. */
  list(serviceInstanceId: string): Promise<ServiceKey[]> {
    return this.prisma.serviceKey.findMany({ where: { serviceInstanceId }, orderBy: [{ name: 'asc' }, { id: 'asc' }] });
  }

  /** The instance's key of that name (or id). */
  async find(serviceInstanceId: string, idOrName: string): Promise<ServiceKey | null> {
    const byName = await this.prisma.serviceKey.findUnique({ where: { serviceInstanceId_name: { serviceInstanceId, name: idOrName } } });
    if (byName || !/^[0-9a-f-]{36}$/.test(idOrName)) return byName;
    return this.prisma.serviceKey.findFirst({ where: { serviceInstanceId, id: idOrName } });
  }

  /** False when it is gone already. */
  async delete(id: string): Promise<boolean> {
    const { count } = await this.prisma.serviceKey.deleteMany({ where: { id } });
    return count === 1;
  }
}
