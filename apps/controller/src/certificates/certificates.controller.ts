import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { createCertificateRequestSchema, type CertificateView, type CreateCertificateRequest } from '@paas/contracts';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { paginated, parsePage, type Paginated } from '../platform/common/pagination';
import { csvParam, uuidListParam } from '../platform/common/query-params';
import { CertificatesService } from './certificates.service';

/** Certificates: list (`org_ids`, `names`), get, create (upload or ACME order), delete. Never a private key. */
@Controller('v1/certificates')
@UseGuards(TokenGuard)
export class CertificatesController {
  constructor(private readonly certificates: CertificatesService) {}

  @Get()
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Paginated<CertificateView>> {
    const page = parsePage(query);
    const { certificates, total } = await this.certificates.list(actor, { orgIds: uuidListParam(query, 'org_ids'), names: csvParam(query, 'names') }, page);
    return paginated(certificates, total, page, '/v1/certificates', query);
  }

  @Post()
  @HttpCode(201)
  create(@CurrentActor() actor: Actor, @Body(new ZodBodyPipe(createCertificateRequestSchema)) body: CreateCertificateRequest): Promise<CertificateView> {
    return this.certificates.create(actor, body);
  }

  @Get(':id')
  get(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<CertificateView> {
    return this.certificates.get(actor, id);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    await this.certificates.delete(actor, id);
  }
}
