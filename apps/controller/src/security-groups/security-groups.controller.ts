import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { paginated, parsePage, type Paginated } from '../platform/common/pagination';
import { csvParam } from '../platform/common/query-params';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import {
  bindSecurityGroupSchema,
  createSecurityGroupSchema,
  updateSecurityGroupSchema,
  type BindSecurityGroupRequest,
  type CreateSecurityGroupRequest,
  type SecurityGroupView,
  type UpdateSecurityGroupRequest,
} from './security-groups.schemas';
import { SecurityGroupsService } from './security-groups.service';

/** Application security groups: read by everybody for the spaces they see; written by platform admins. */
@Controller('v1/security-groups')
@UseGuards(TokenGuard)
export class SecurityGroupsController {
  constructor(private readonly groups: SecurityGroupsService) {}

  @Get()
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Paginated<SecurityGroupView>> {
    const page = parsePage(query);
    const { groups, total } = await this.groups.list(actor, { names: csvParam(query, 'names') }, page);
    return paginated(groups, total, page, '/v1/security-groups', query);
  }

  @Post()
  @HttpCode(201)
  create(@CurrentActor() actor: Actor, @Body(new ZodBodyPipe(createSecurityGroupSchema)) body: CreateSecurityGroupRequest): Promise<SecurityGroupView> {
    return this.groups.create(actor, body);
  }

  @Get(':id')
  get(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<SecurityGroupView> {
    return this.groups.get(actor, id);
  }

  @Patch(':id')
  update(
    @CurrentActor() actor: Actor,
    @Param('id') id: string,
    @Body(new ZodBodyPipe(updateSecurityGroupSchema)) body: UpdateSecurityGroupRequest,
  ): Promise<SecurityGroupView> {
    return this.groups.update(actor, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    await this.groups.delete(actor, id);
  }

  @Post(':id/running-spaces')
  @HttpCode(200)
  bindRunning(@CurrentActor() actor: Actor, @Param('id') id: string, @Body(new ZodBodyPipe(bindSecurityGroupSchema)) body: BindSecurityGroupRequest): Promise<SecurityGroupView> {
    return this.groups.bind(actor, id, body.space_ids, 'running');
  }

  @Post(':id/staging-spaces')
  @HttpCode(200)
  bindStaging(@CurrentActor() actor: Actor, @Param('id') id: string, @Body(new ZodBodyPipe(bindSecurityGroupSchema)) body: BindSecurityGroupRequest): Promise<SecurityGroupView> {
    return this.groups.bind(actor, id, body.space_ids, 'staging');
  }

  @Delete(':id/running-spaces/:spaceId')
  @HttpCode(204)
  async unbindRunning(@CurrentActor() actor: Actor, @Param('id') id: string, @Param('spaceId') spaceId: string): Promise<void> {
    await this.groups.unbind(actor, id, spaceId, 'running');
  }

  @Delete(':id/staging-spaces/:spaceId')
  @HttpCode(204)
  async unbindStaging(@CurrentActor() actor: Actor, @Param('id') id: string, @Param('spaceId') spaceId: string): Promise<void> {
    await this.groups.unbind(actor, id, spaceId, 'staging');
  }
}
