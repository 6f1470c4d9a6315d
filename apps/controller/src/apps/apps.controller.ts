import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { appNameSchema, createAppSchema, type CreateAppRequest } from '@paas/contracts';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../common/zod-body.pipe';
import { DomainException, ErrorCode } from '../common/domain.exception';
import { AppsService, type AppView } from './apps.service';

function validName(name: string): string {
  const parsed = appNameSchema.safeParse(name);
  if (!parsed.success) {
    throw new DomainException(ErrorCode.ValidationFailed, `name: ${parsed.error.issues[0].message}`, [
      { field: 'name', rule: parsed.error.issues[0].message },
    ]);
  }
  return parsed.data;
}

@Controller('v1/apps')
@UseGuards(TokenGuard)
export class AppsController {
  constructor(private readonly apps: AppsService) {}

  @Post()
  @HttpCode(201)
  create(@Body(new ZodBodyPipe(createAppSchema)) body: CreateAppRequest): Promise<AppView> {
    return this.apps.create(body.name);
  }

  @Get()
  async list(): Promise<{ resources: AppView[] }> {
    return { resources: await this.apps.list() };
  }

  @Get(':name')
  get(@Param('name') name: string): Promise<AppView> {
    return this.apps.get(validName(name));
  }

  @Delete(':name')
  @HttpCode(204)
  async delete(@Param('name') name: string): Promise<void> {
    await this.apps.delete(validName(name));
  }
}
