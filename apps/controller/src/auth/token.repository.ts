import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';

@Injectable()
export class TokenRepository {
  constructor(private readonly prisma: PrismaService) {}

  async exists(tokenHash: string): Promise<boolean> {
    return (await this.prisma.apiToken.findUnique({ where: { tokenHash } })) !== null;
  }

  async ensure(name: string, tokenHash: string): Promise<void> {
    await this.prisma.apiToken.upsert({ where: { tokenHash }, create: { name, tokenHash }, update: {} });
  }
}
