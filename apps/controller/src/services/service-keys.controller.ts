import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { appNameSchema, type ServiceKeyView } from '@paas/contracts';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { spaceParam } from './services.controller';
import { ServiceKeysService } from './service-keys.service';

const createKeySchema = z.strictObject({ name: appNameSchema });

/** Service keys of an instance (`:instance` an id or a name, `?space_id=` when ambiguous; `:key` a name or an id). */
@Controller('v1/service_instances/:instance/keys')
@UseGuards(TokenGuard)
export class ServiceKeysController {
  constructor(private readonly keys: ServiceKeysService) {}

  @Get()
  async list(@CurrentActor() actor: Actor, @Param('instance') instance: string, @Query() query: Record<string, unknown>): Promise<{ resources: ServiceKeyView[] }> {
    return { resources: await this.keys.list(actor, instance, spaceParam(query)) };
  }

  @Post()
  @HttpCode(201)
  create(@CurrentActor() actor: Actor, @Param('instance') instance: string, @Query() query: Record<string, unknown>, @Body(new ZodBodyPipe(createKeySchema)) body: { name: string }): Promise<ServiceKeyView> {
    return this.keys.create(actor, instance, body.name, spaceParam(query));
  }

  @Get(':key')
  get(@CurrentActor() actor: Actor, @Param('instance') instance: string, @Param('key') key: string, @Query() query: Record<string, unknown>): Promise<ServiceKeyView> {
    return this.keys.get(actor, instance, key, spaceParam(query));
  }

  @Delete(':key')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('instance') instance: string, @Param('key') key: string, @Query() query: Record<string, unknown>): Promise<void> {
    await this.keys.delete(actor, instance, key, spaceParam(query));
  }
}
