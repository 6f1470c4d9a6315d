import { Injectable } from '@nestjs/common';
import { Prisma } from '../../generated/prisma/client';
import type { ServiceBroker } from '../../generated/prisma/client';
import { PrismaService } from '../../platform/database/prisma.service';
import type { BrokerCatalog } from './osb-client';

/** Registered service brokers (their login and last fetched catalog). */
@Injectable()
export class ServiceBrokersRepository {
  constructor(private readonly prisma: PrismaService) {}

  list(): Promise<ServiceBroker[]> {
    return this.prisma.serviceBroker.findMany({ orderBy: { name: 'asc' } });
  }

  find(id: string): Promise<ServiceBroker | null> {
    return this.prisma.serviceBroker.findUnique({ where: { id } });
  }

  named(name: string): Promise<ServiceBroker | null> {
    return this.prisma.serviceBroker.findUnique({ where: { name } });
  }

  /** Records a broker; undefined when one of that name exists. */
  async create(data: { name: string; url: string; username: string; password: string; catalog: BrokerCatalog }): Promise<ServiceBroker | undefined> {
    try {
      return await this.prisma.serviceBroker.create({ data: { ...data, catalog: data.catalog as unknown as Prisma.InputJsonValue } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  /** Updates; undefined when the new name is another broker's. */
  async update(id: string, data: { name: string; url: string; username: string; password: string; catalog: BrokerCatalog }): Promise<ServiceBroker | undefined> {
    try {
      return await this.prisma.serviceBroker.update({ where: { id }, data: { ...data, catalog: data.catalog as unknown as Prisma.InputJsonValue } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  /** The names of the instances provisioned through the broker (a broker with any cannot be deleted). */
  async instanceNames(id: string): Promise<string[]> {
    return (await this.prisma.serviceInstance.findMany({ where: { brokerId: id }, select: { name: true }, orderBy: { name: 'asc' } })).map((i) => i.name);
  }

  /** The plan ids its instances use (a catalog update may not drop one). */
  async plansInUse(id: string): Promise<Array<{ name: string; brokerServiceId: string | null; brokerPlanId: string | null }>> {
    return this.prisma.serviceInstance.findMany({ where: { brokerId: id }, select: { name: true, brokerServiceId: true, brokerPlanId: true } });
  }

  /** Removes it; false when instances still hold it (RESTRICT) or it is gone. */
  async delete(id: string): Promise<boolean> {
    try {
      const { count } = await this.prisma.serviceBroker.deleteMany({ where: { id } });
      return count === 1;
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003') return false;
      throw error;
    }
  }
}
