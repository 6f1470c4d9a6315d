import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { appNameSchema, createAppSchema, type CreateAppRequest } from '@paas/contracts';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { paginated, parsePage, type Paginated } from '../platform/common/pagination';
import { csvParam, uuidListParam } from '../platform/common/query-params';
import { AppsService } from './apps.service';
import { CreateApp } from './usecases/create-app.usecase';
import { DeleteApp } from './usecases/delete-app.usecase';
import type { AppView } from './app-view';

const renameSchema = z.strictObject({ name: appNameSchema });

/** Apps: create, list (filter by space_ids and names), get, rename, delete. `:app` is an id or a name. */
@Controller('v1/apps')
@UseGuards(TokenGuard)
export class AppsController {
  constructor(
    private readonly apps: AppsService,
    private readonly createApp: CreateApp,
    private readonly deleteApp: DeleteApp,
  ) {}

  @Post()
  @HttpCode(201)
  create(@CurrentActor() actor: Actor, @Body(new ZodBodyPipe(createAppSchema)) body: CreateAppRequest): Promise<AppView> {
    return this.createApp.run(actor, body);
  }

  @Get()
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Paginated<AppView>> {
    const page = parsePage(query);
    const { apps, total } = await this.apps.list(actor, { spaceIds: uuidListParam(query, 'space_ids'), names: csvParam(query, 'names') }, page);
    return paginated(apps, total, page, '/v1/apps', query);
  }

  @Get(':app')
  async get(@CurrentActor() actor: Actor, @Param('app') app: string): Promise<AppView> {
    return this.apps.view(await this.apps.resolve(actor, app, 'read'));
  }

  @Patch(':app')
  rename(@CurrentActor() actor: Actor, @Param('app') app: string, @Body(new ZodBodyPipe(renameSchema)) body: { name: string }): Promise<AppView> {
    return this.apps.rename(actor, app, body.name);
  }

  @Delete(':app')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('app') app: string): Promise<void> {
    await this.deleteApp.run(actor, app);
  }
}
