import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import type { ServiceBackupView, ServiceInstanceView } from '@paas/contracts';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { spaceParam } from './services.controller';
import { ServiceBackupsService } from './service-backups.service';
import { ServiceRestoresService } from './service-restores.service';

const restoreSchema = z.strictObject({
  backup_id: z.uuid({ error: 'backup_id is required: the id of a succeeded backup (GET /v1/service_instances/NAME/backups)' }),
});

/** Backups of a managed service instance and restores into it (docs/services.md, "Backups and restore"). `:instance` is an id or a name. */
@Controller('v1/service_instances/:instance')
@UseGuards(TokenGuard)
export class ServiceBackupsController {
  constructor(
    private readonly backups: ServiceBackupsService,
    private readonly restores: ServiceRestoresService,
  ) {}

  @Get('backups')
  async list(@CurrentActor() actor: Actor, @Param('instance') instance: string, @Query() query: Record<string, unknown>): Promise<{ resources: ServiceBackupView[] }> {
    return { resources: await this.backups.list(actor, instance, spaceParam(query)) };
  }

  @Post('backups')
  @HttpCode(202)
  create(@CurrentActor() actor: Actor, @Param('instance') instance: string, @Query() query: Record<string, unknown>): Promise<ServiceBackupView> {
    return this.backups.request(actor, instance, spaceParam(query));
  }

  @Get('backups/:backup')
  get(@CurrentActor() actor: Actor, @Param('instance') instance: string, @Param('backup') backup: string, @Query() query: Record<string, unknown>): Promise<ServiceBackupView> {
    return this.backups.get(actor, instance, backup, spaceParam(query));
  }

  @Delete('backups/:backup')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('instance') instance: string, @Param('backup') backup: string, @Query() query: Record<string, unknown>): Promise<void> {
    await this.backups.delete(actor, instance, backup, spaceParam(query));
  }

  @Post('restores')
  @HttpCode(202)
  restore(
    @CurrentActor() actor: Actor,
    @Param('instance') instance: string,
    @Query() query: Record<string, unknown>,
    @Body(new ZodBodyPipe(restoreSchema)) body: z.infer<typeof restoreSchema>,
  ): Promise<ServiceInstanceView> {
    return this.restores.request(actor, instance, body.backup_id, spaceParam(query));
  }
}
