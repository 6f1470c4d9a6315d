import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { verifyDomainRequestSchema, type VerifyDomainRequest } from '@paas/contracts';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { paginated, parsePage, type Paginated } from '../platform/common/pagination';
import { csvParam, uuidListParam } from '../platform/common/query-params';
import { DomainVerificationService } from './domain-verification.service';
import { createDomainSchema, type CreateDomainRequest } from './domains.schemas';
import { DomainsService } from './domains.service';
import type { DomainView } from './domains.views';

/**
 * Domains: list (`names`, `org_ids`), get; create (platform admins: verified; org managers: a
 * private domain of their org, pending until verified), verify, delete (admins, org managers).
 */
@Controller('v1/domains')
@UseGuards(TokenGuard)
export class DomainsController {
  constructor(
    private readonly domains: DomainsService,
    private readonly verification: DomainVerificationService,
  ) {}

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

  @Post(':id/verify')
  @HttpCode(200)
  verify(@CurrentActor() actor: Actor, @Param('id') id: string, @Body(new ZodBodyPipe(verifyDomainRequestSchema)) body: VerifyDomainRequest): Promise<DomainView> {
    return this.verification.verify(actor, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    await this.domains.delete(actor, id);
  }
}
