import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { paginated, parsePage, type Paginated } from '../platform/common/pagination';
import { csvParam, uuidListParam } from '../platform/common/query-params';
import { createDomainSchema, type CreateDomainRequest } from './domains.schemas';
import { DomainsService, type DomainView } from './domains.service';

/** Domains: list (`names`, `org_ids`), get; create and delete are for platform admins. */
@Controller('v1/domains')
@UseGuards(TokenGuard)
export class DomainsController {
  constructor(private readonly domains: DomainsService) {}

  @Get()
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Paginated<DomainView>> {
    const page = parsePage(query);
    const { domains, total } = await this.domains.list(actor, { names: csvParam(query, 'names'), orgIds: uuidListParam(query, 'org_ids') }, page);
    return paginated(domains, total, page, '/v1/domains', query);
  }

  @Post()
  @HttpCode(201)
  create(@CurrentActor() actor: Actor, @Body(new ZodBodyPipe(createDomainSchema)) body: CreateDomainRequest): Promise<DomainView> {
    return this.domains.create(actor, body);
  }

  @Get(':id')
  get(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<DomainView> {
    return this.domains.get(actor, id);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    await this.domains.delete(actor, id);
  }
}
