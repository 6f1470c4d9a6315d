import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import type { ServiceBindingView } from '@paas/contracts';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { AppsService } from '../apps/apps.service';
import { ServiceBindingsRepository } from '../services/service-bindings.repository';
import { serviceBindingView } from '../services/service-views';
import type { ChangeResult } from '@paas/contracts';
import { BindService } from './usecases/bind-service.usecase';
import { UnbindService } from './usecases/unbind-service.usecase';

const bindSchema = z.strictObject({
  service_instance: z
    .string({ error: 'service_instance is required: the name or id of a service instance of the app\'s space' })
    .min(1, { error: 'service_instance must name a service instance' })
    .max(64, { error: 'service_instance is a name or an id (at most 64 characters)' }),
});

/** An app's service bindings: bind (rolls out a release with the service), list, unbind. */
@Controller('v1/apps/:app/service_bindings')
@UseGuards(TokenGuard)
export class ServiceBindingsController {
  constructor(
    private readonly apps: AppsService,
    private readonly bindings: ServiceBindingsRepository,
    private readonly bindService: BindService,
    private readonly unbindService: UnbindService,
  ) {}

  @Post()
  @HttpCode(201)
  bind(@CurrentActor() actor: Actor, @Param('app') app: string, @Body(new ZodBodyPipe(bindSchema)) body: { service_instance: string }) {
    return this.bindService.run(actor, app, body.service_instance);
  }

  @Get()
  async list(@CurrentActor() actor: Actor, @Param('app') app: string): Promise<{ resources: ServiceBindingView[] }> {
    const found = await this.apps.resolve(actor, app, 'read');
    return { resources: (await this.bindings.ofApp(found.id)).map(serviceBindingView) };
  }

  @Delete(':instance')
  @HttpCode(200)
  unbind(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('instance') instance: string): Promise<ChangeResult> {
    return this.unbindService.run(actor, app, instance);
  }
}
