import { Injectable } from '@nestjs/common';
import { PrismaService } from '../platform/database/prisma.service';
import { retryOnConflict } from '../platform/common/retry-on-conflict';
import type { Actor } from './actor';

@Injectable()
export class TokenRepository {
  constructor(private readonly prisma: PrismaService) {}

  async actorOf(tokenHash: string): Promise<Actor | undefined> {
    const token = await this.prisma.apiToken.findUnique({ where: { tokenHash }, include: { user: true } });
    return token ? { userId: token.user.id, name: token.user.name, isAdmin: token.user.isAdmin } : undefined;
  }

  /** Makes sure the admin user exists and holds this token. */
  async ensureAdmin(tokenHash: string): Promise<void> {
    const admin = await retryOnConflict(() =>
      this.prisma.user.upsert({ where: { name: 'admin' }, create: { name: 'admin', isAdmin: true }, update: { isAdmin: true } }),
    );
    await retryOnConflict(() =>
      this.prisma.apiToken.upsert({ where: { tokenHash }, create: { name: 'admin', tokenHash, userId: admin.id }, update: { userId: admin.id } }),
    );
  }
}
