import { Injectable } from '@nestjs/common';
import type { Prisma, ServiceBinding, ServiceInstance } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';

/** A binding with its instance and the name of its app. */
export type ServiceBindingRecord = ServiceBinding & { serviceInstance: ServiceInstance; app: { id: string; name: string } };

const INCLUDE = { serviceInstance: true, app: { select: { id: true, name: true } } } satisfies Prisma.ServiceBindingInclude;

/** Apps' bindings to service instances, with the credentials each was given. */
@Injectable()
export class ServiceBindingsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The app's bindings, oldest first (the first of each kind sets DATABASE_URL / REDIS_URL). */
  ofApp(appId: string, tx: Prisma.TransactionClient = this.prisma): Promise<ServiceBindingRecord[]> {
    return tx.serviceBinding.findMany({ where: { appId }, include: INCLUDE, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  find(appId: string, serviceInstanceId: string, tx: Prisma.TransactionClient = this.prisma): Promise<ServiceBindingRecord | null> {
    return tx.serviceBinding.findUnique({ where: { appId_serviceInstanceId: { appId, serviceInstanceId } }, include: INCLUDE });
  }

  create(
    data: { id: string; appId: string; serviceInstanceId: string; username: string | null; password: string | null; credentials: Record<string, string | number> },
    tx: Prisma.TransactionClient = this.prisma,
  ): Promise<ServiceBindingRecord> {
    return tx.serviceBinding.create({ data, include: INCLUDE });
  }

  async delete(id: string, tx: Prisma.TransactionClient = this.prisma): Promise<void> {
    await tx.serviceBinding.deleteMany({ where: { id } });
  }
}
