import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { appNameSchema, BUILTIN_OFFERINGS, type ServiceInstanceView, type ServiceOfferingView, type ServicePlanView } from '@paas/contracts';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import { csvParam, uuidListParam } from '../platform/common/query-params';
import { offeringNamed, offeringView, planView } from './offerings';
import { ServiceInstancesService } from './service-instances.service';
import { CreateServiceInstance } from './usecases/create-service-instance.usecase';
import { DeleteServiceInstance } from './usecases/delete-service-instance.usecase';

const createSchema = z.strictObject({
  name: appNameSchema,
  offering: z.string({ error: 'offering is required: the name of a service offering (GET /v1/service_offerings)' }).min(1).max(64),
  plan: z.string({ error: 'plan is required: the name of one of its plans (GET /v1/service_plans?offering=NAME)' }).min(1).max(64),
  space_id: z.uuid({ error: 'space_id must be a space id (a UUID)' }).optional(),
  /** A succeeded backup of an instance of the same offering and space: the new instance starts with its data. */
  restore_from_backup: z.uuid({ error: 'restore_from_backup must be a backup id (a UUID): GET /v1/service_instances/NAME/backups lists them' }).optional(),
});
type CreateRequest = z.infer<typeof createSchema>;

const renameSchema = z.strictObject({ name: appNameSchema });

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
  ) {}

  @Get('service_offerings')
  offerings(): { resources: ServiceOfferingView[] } {
    return { resources: BUILTIN_OFFERINGS.map(offeringView) };
  }

  @Get('service_plans')
  plans(@Query() query: Record<string, unknown>): { resources: ServicePlanView[] } {
    const name = csvParam(query, 'offering')?.[0];
    const offerings = name === undefined ? BUILTIN_OFFERINGS : [offeringNamed(name)];
    return { resources: offerings.flatMap((o) => o.plans.map((p) => planView(o, p))) };
  }

  @Post('service_instances')
  @HttpCode(202)
  create(@CurrentActor() actor: Actor, @Body(new ZodBodyPipe(createSchema)) body: CreateRequest): Promise<ServiceInstanceView> {
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

  @Patch('service_instances/:instance')
  rename(
    @CurrentActor() actor: Actor,
    @Param('instance') instance: string,
    @Query() query: Record<string, unknown>,
    @Body(new ZodBodyPipe(renameSchema)) body: { name: string },
  ): Promise<ServiceInstanceView> {
    return this.instances.rename(actor, instance, body.name, spaceParam(query));
  }

  @Delete('service_instances/:instance')
  @HttpCode(202)
  delete(@CurrentActor() actor: Actor, @Param('instance') instance: string, @Query() query: Record<string, unknown>): Promise<ServiceInstanceView> {
    return this.deleteInstance.run(actor, instance, spaceParam(query));
  }
}
