import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { paginated, parsePage, type Paginated } from '../platform/common/pagination';
import { csvParam } from '../platform/common/query-params';
import { OrgsService } from './orgs.service';
import { createOrgSchema, updateOrgSchema, type CreateOrgRequest, type UpdateOrgRequest } from './tenancy.schemas';
import type { OrgView } from './tenancy.views';

/** Orgs: list (`names`), get; create, rename and delete are for platform admins. */
@Controller('v1/orgs')
@UseGuards(TokenGuard)
export class OrgsController {
  constructor(private readonly orgs: OrgsService) {}

  @Get()
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Paginated<OrgView>> {
    const page = parsePage(query);
    const { orgs, total } = await this.orgs.list(actor, { names: csvParam(query, 'names') }, page);
    return paginated(orgs, total, page, '/v1/orgs', query);
  }

  @Post()
  @HttpCode(201)
  create(@CurrentActor() actor: Actor, @Body(new ZodBodyPipe(createOrgSchema)) body: CreateOrgRequest): Promise<OrgView> {
    return this.orgs.create(actor, body.name);
  }

  @Get(':id')
  get(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<OrgView> {
    return this.orgs.get(actor, id);
  }

  @Patch(':id')
  update(@CurrentActor() actor: Actor, @Param('id') id: string, @Body(new ZodBodyPipe(updateOrgSchema)) body: UpdateOrgRequest): Promise<OrgView> {
    return this.orgs.rename(actor, id, body.name);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    await this.orgs.delete(actor, id);
  }
}
