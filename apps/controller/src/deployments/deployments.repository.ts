import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import type { Deployment } from '../generated/prisma/client';
import { PrismaService } from '../platform/database/prisma.service';

@Injectable()
export class DeploymentsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Starts a deployment; undefined when one of this app is already running (unique partial index). */
  async start(appId: string, releaseId: string, tx: Prisma.TransactionClient = this.prisma): Promise<Deployment | undefined> {
    try {
      return await tx.deployment.create({ data: { appId, releaseId } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return undefined;
      throw error;
    }
  }

  async finish(id: string, state: 'DEPLOYED' | 'FAILED' | 'CANCELED', reason?: string): Promise<void> {
    await this.prisma.deployment.updateMany({ where: { id, state: 'DEPLOYING' }, data: { state, reason: reason ?? null } });
  }

  /** The app's deployment in progress, if any (in `tx` when given). */
  active(appId: string, tx: Prisma.TransactionClient = this.prisma): Promise<Deployment | null> {
    return tx.deployment.findFirst({ where: { appId, state: 'DEPLOYING' } });
  }

  allActive(): Promise<Deployment[]> {
    return this.prisma.deployment.findMany({ where: { state: 'DEPLOYING' } });
  }

  find(id: string): Promise<Deployment | null> {
    return this.prisma.deployment.findUnique({ where: { id } });
  }

  async list(appId: string, skip: number, take: number): Promise<{ deployments: Deployment[]; total: number }> {
    const [deployments, total] = await this.prisma.$transaction([
      this.prisma.deployment.findMany({ where: { appId }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], skip, take }),
      this.prisma.deployment.count({ where: { appId } }),
    ]);
    return { deployments, total };
  }
}
