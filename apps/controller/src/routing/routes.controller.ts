import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { updateRouteRequestSchema, type UpdateRouteRequest } from '@paas/contracts';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { paginated, parsePage, type Paginated } from '../platform/common/pagination';
import { csvParam, uuidListParam } from '../platform/common/query-params';
import { RouteDestinationsService, type DestinationsView } from './route-destinations.service';
import { createRouteSchema, destinationsSchema, type CreateRouteRequest, type DestinationsRequest } from './routes.schemas';
import { RoutesService } from './routes.service';
import type { RouteView } from './routes.views';

/** Routes (list by `space_ids`, `hosts`, `domain_ids`, `paths`, `app_ids`) and their destinations. */
@Controller('v1/routes')
@UseGuards(TokenGuard)
export class RoutesController {
  constructor(
    private readonly routes: RoutesService,
    private readonly destinations: RouteDestinationsService,
  ) {}

  @Get()
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Paginated<RouteView>> {
    const page = parsePage(query);
    const filter = {
      spaceIds: uuidListParam(query, 'space_ids'),
      hosts: csvParam(query, 'hosts'),
      domainIds: uuidListParam(query, 'domain_ids'),
      appIds: uuidListParam(query, 'app_ids'),
      paths: csvParam(query, 'paths'),
    };
    const { routes, total } = await this.routes.list(actor, filter, page);
    return paginated(routes, total, page, '/v1/routes', query);
  }

  @Post()
  @HttpCode(201)
  create(@CurrentActor() actor: Actor, @Body(new ZodBodyPipe(createRouteSchema)) body: CreateRouteRequest): Promise<RouteView> {
    return this.routes.create(actor, body);
  }

  @Get(':id')
  get(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<RouteView> {
    return this.routes.get(actor, id);
  }

  /** HTTPS settings: https_redirect, hsts_max_age. */
  @Patch(':id')
  update(@CurrentActor() actor: Actor, @Param('id') id: string, @Body(new ZodBodyPipe(updateRouteRequestSchema)) body: UpdateRouteRequest): Promise<RouteView> {
    return this.routes.update(actor, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    await this.routes.delete(actor, id);
  }

  @Get(':id/destinations')
  listDestinations(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<DestinationsView> {
    return this.destinations.list(actor, id);
  }

  @Post(':id/destinations')
  @HttpCode(200)
  insertDestinations(
    @CurrentActor() actor: Actor,
    @Param('id') id: string,
    @Body(new ZodBodyPipe(destinationsSchema)) body: DestinationsRequest,
  ): Promise<DestinationsView> {
    return this.destinations.insert(actor, id, body.destinations);
  }

  @Patch(':id/destinations')
  replaceDestinations(
    @CurrentActor() actor: Actor,
    @Param('id') id: string,
    @Body(new ZodBodyPipe(destinationsSchema)) body: DestinationsRequest,
  ): Promise<DestinationsView> {
    return this.destinations.replace(actor, id, body.destinations);
  }

  @Delete(':id/destinations/:destination_id')
  @HttpCode(204)
  async removeDestination(@CurrentActor() actor: Actor, @Param('id') id: string, @Param('destination_id') destinationId: string): Promise<void> {
    await this.destinations.remove(actor, id, destinationId);
  }
}
