import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { paginated, parsePage, type Paginated } from '../platform/common/pagination';
import { csvParam, uuidListParam } from '../platform/common/query-params';
import { SpacesService } from './spaces.service';
import {
  createSpaceSchema,
  setRoleSchema,
  updateSpaceSchema,
  type CreateSpaceRequest,
  type SetRoleRequest,
  type UpdateSpaceRequest,
} from './tenancy.schemas';
import type { RoleView, SpaceView } from './tenancy.views';

/** Spaces (list by `org_ids`, `names`) and the roles users hold in them. */
@Controller('v1/spaces')
@UseGuards(TokenGuard)
export class SpacesController {
  constructor(private readonly spaces: SpacesService) {}

  @Get()
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Paginated<SpaceView>> {
    const page = parsePage(query);
    const filter = { orgIds: uuidListParam(query, 'org_ids'), names: csvParam(query, 'names') };
    const { spaces, total } = await this.spaces.list(actor, filter, page);
    return paginated(spaces, total, page, '/v1/spaces', query);
  }

  @Post()
  @HttpCode(201)
  create(@CurrentActor() actor: Actor, @Body(new ZodBodyPipe(createSpaceSchema)) body: CreateSpaceRequest): Promise<SpaceView> {
    return this.spaces.create(actor, body);
  }

  @Get(':id')
  get(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<SpaceView> {
    return this.spaces.get(actor, id);
  }

  @Patch(':id')
  update(@CurrentActor() actor: Actor, @Param('id') id: string, @Body(new ZodBodyPipe(updateSpaceSchema)) body: UpdateSpaceRequest): Promise<SpaceView> {
    return this.spaces.rename(actor, id, body.name);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    await this.spaces.delete(actor, id);
  }

  @Get(':id/roles')
  async roles(@CurrentActor() actor: Actor, @Param('id') id: string, @Query() query: Record<string, unknown>): Promise<Paginated<RoleView>> {
    const page = parsePage(query);
    const { roles, total } = await this.spaces.roles(actor, id, page);
    return paginated(roles, total, page, `/v1/spaces/${id}/roles`, query);
  }

  @Put(':id/roles')
  setRole(@CurrentActor() actor: Actor, @Param('id') id: string, @Body(new ZodBodyPipe(setRoleSchema)) body: SetRoleRequest): Promise<RoleView> {
    return this.spaces.setRole(actor, id, body);
  }

  @Delete(':id/roles/:user_id')
  @HttpCode(204)
  async removeRole(@CurrentActor() actor: Actor, @Param('id') id: string, @Param('user_id') userId: string): Promise<void> {
    await this.spaces.removeRole(actor, id, userId);
  }
}
