import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { notFound } from '../platform/common/domain.exception';
import { paginated, parsePage } from '../platform/common/pagination';
import { AppsService } from '../apps/apps.service';
import { DeploymentsRepository } from './deployments.repository';
import { deploymentView } from './deployment-view';
import { CancelDeployment } from './usecases/cancel-deployment.usecase';

/** An app's deployments (the roll-out of a release), newest first, and cancelling a running one. */
@Controller('v1/apps/:app/deployments')
@UseGuards(TokenGuard)
export class DeploymentsController {
  constructor(
    private readonly apps: AppsService,
    private readonly deploymentsRepo: DeploymentsRepository,
    private readonly cancel: CancelDeployment,
  ) {}

  @Get()
  async deploymentsOf(@CurrentActor() actor: Actor, @Param('app') app: string, @Query() query: Record<string, unknown>) {
    const found = await this.apps.resolve(actor, app, 'read');
    const page = parsePage(query);
    const { deployments, total } = await this.deploymentsRepo.list(found.id, page.skip, page.take);
    return paginated(deployments.map(deploymentView), total, page, `/v1/apps/${app}/deployments`, query);
  }

  @Get(':id')
  async deployment(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('id') id: string) {
    const found = await this.apps.resolve(actor, app, 'read');
    const deployment = /^[0-9a-f-]{36}$/i.test(id) ? await this.deploymentsRepo.find(id) : null;
    if (!deployment || deployment.appId !== found.id) throw notFound('deployment', id);
    return deploymentView(deployment);
  }

  /** Cancels a running deployment: it stops at its next step, removes its new instances, and ends CANCELED (see CancelDeployment). */
  @Post(':id/cancel')
  @HttpCode(202)
  async cancelDeployment(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('id') id: string) {
    const found = await this.apps.resolve(actor, app, 'write');
    return deploymentView(await this.cancel.run(actor, found, id));
  }
}
