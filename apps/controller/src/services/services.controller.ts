import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { appNameSchema, type ServiceInstanceView, type ServiceOfferingView, type ServicePlanView } from '@paas/contracts';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import { csvParam, uuidListParam } from '../platform/common/query-params';
import { MarketplaceService } from './brokers/marketplace.service';
import { ServiceInstancesService } from './service-instances.service';
import { CreateServiceInstance } from './usecases/create-service-instance.usecase';
import { DeleteServiceInstance } from './usecases/delete-service-instance.usecase';
import { UpdateServiceInstance } from './usecases/update-service-instance.usecase';
import { ServiceInstanceBodyPipe, tagsSchema, type CreateUserProvidedRequest } from './user-provided/user-provided.schemas';
import { UserProvidedInstancesService } from './user-provided/user-provided-instances.service';

const createSchema = z.strictObject({
  name: appNameSchema,
  offering: z.string({ error: 'offering is required: the name of a service offering (GET /v1/service_offerings)' }).min(1).max(64),
  plan: z.string({ error: 'plan is required: the name of one of its plans (GET /v1/service_plans?offering=NAME)' }).min(1).max(64),
  space_id: z.uuid({ error: 'space_id must be a space id (a UUID)' }).optional(),
  /** A succeeded backup of an instance of the same offering and space: the new instance starts with its data. */
  restore_from_backup: z.uuid({ error: 'restore_from_backup must be a backup id (a UUID): GET /v1/service_instances/NAME/backups lists them' }).optional(),
});
type CreateRequest = z.infer<typeof createSchema>;

/** What a PATCH changes: a rename; a managed instance's plan (resize) and backup_retention; a user-provided one's credentials and tags (user-provided/). */
const updateSchema = z
  .strictObject({
    name: appNameSchema.optional(),
    plan: z.string({ error: 'plan must be the name of a plan of the offering (GET /v1/service_plans?offering=NAME)' }).min(1).max(64).optional(),
    backup_retention: z
      .number({ error: 'backup_retention must be a number of backups, 0-100' })
      .int({ error: 'backup_retention must be a whole number of backups, 0-100' })
      .min(0, { error: 'backup_retention must be 0-100 (0: scheduled backups are not kept)' })
      .max(100, { error: 'backup_retention must be 0-100' })
      .optional(),
    credentials: z.record(z.string(), z.unknown()).optional(),
    tags: tagsSchema.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { error: 'give what to change: name, plan or backup_retention (credentials or tags for a user-provided instance)' })
  .refine((b) => !((b.credentials !== undefined || b.tags !== undefined) && (b.plan !== undefined || b.backup_retention !== undefined)), {
    error: 'credentials and tags are for user-provided instances, plan and backup_retention for managed ones: give one kind',
  });
type UpdateRequest = z.infer<typeof updateSchema>;

/** The one space_id a request names (?space_id=ID), or undefined. */
export function spaceParam(query: Record<string, unknown>): string | undefined {
  const ids = uuidListParam(query, 'space_id');
  if (ids && ids.length > 1) {
    throw new DomainException(ErrorCode.ValidationFailed, 'space_id: give one space id', [{ field: 'space_id', rule: 'one UUID' }]);
  }
  return ids?.[0];
}

/** The marketplace (offerings and plans) and service instances: create, list, get, rename, delete. `:instance` is an id or a name. */
@Controller('v1')
@UseGuards(TokenGuard)
export class ServicesController {
  constructor(
    private readonly instances: ServiceInstancesService,
    private readonly createInstance: CreateServiceInstance,
    private readonly deleteInstance: DeleteServiceInstance,
    private readonly updateInstance: UpdateServiceInstance,
    private readonly marketplace: MarketplaceService,
    private readonly userProvided: UserProvidedInstancesService,
  ) {}

  @Get('service_offerings')
  async offerings(): Promise<{ resources: ServiceOfferingView[] }> {
    return { resources: await this.marketplace.offerings() };
  }

  @Get('service_plans')
  async plans(@Query() query: Record<string, unknown>): Promise<{ resources: ServicePlanView[] }> {
    return { resources: await this.marketplace.plans(csvParam(query, 'offering')?.[0]) };
  }

  @Post('service_instances')
  @HttpCode(202)
  create(@CurrentActor() actor: Actor, @Body(new ServiceInstanceBodyPipe(createSchema)) body: CreateRequest | CreateUserProvidedRequest): Promise<ServiceInstanceView> {
    return this.createInstance.run(actor, body);
  }

  @Get('service_instances')
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<{ resources: ServiceInstanceView[] }> {
    return { resources: await this.instances.list(actor, { spaceId: spaceParam(query), names: csvParam(query, 'names') }) };
  }

  @Get('service_instances/:instance')
  async get(@CurrentActor() actor: Actor, @Param('instance') instance: string, @Query() query: Record<string, unknown>): Promise<ServiceInstanceView> {
    return this.instances.view(await this.instances.resolve(actor, instance, 'read', spaceParam(query)));
  }

  /** Rename, resize (`plan`: 202, the update in progress), backup_retention; a user-provided instance's credentials and tags. */
  @Patch('service_instances/:instance')
  async update(
    @CurrentActor() actor: Actor,
    @Param('instance') instance: string,
    @Query() query: Record<string, unknown>,
    @Body(new ZodBodyPipe(updateSchema)) body: UpdateRequest,
    @Res({ passthrough: true }) reply: Response,
  ): Promise<ServiceInstanceView> {
    if (body.credentials !== undefined || body.tags !== undefined) {
      return this.userProvided.update(actor, await this.instances.resolve(actor, instance, 'write', spaceParam(query)), body);
    }
    const result = await this.updateInstance.run(actor, instance, body, spaceParam(query));
    if (result.accepted) reply.status(202);
    return result.view;
  }

  @Delete('service_instances/:instance')
  @HttpCode(202)
  delete(@CurrentActor() actor: Actor, @Param('instance') instance: string, @Query() query: Record<string, unknown>): Promise<ServiceInstanceView> {
    return this.deleteInstance.run(actor, instance, spaceParam(query));
  }
}
