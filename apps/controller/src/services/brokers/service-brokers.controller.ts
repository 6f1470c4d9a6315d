import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { appNameSchema, type ServiceBrokerView } from '@paas/contracts';
import { CurrentActor, type Actor } from '../../auth/actor';
import { TokenGuard } from '../../auth/token.guard';
import { ZodBodyPipe } from '../../platform/common/zod-body.pipe';
import { ServiceBrokersService, type BrokerRequest } from './service-brokers.service';

const urlSchema = z.string({ error: 'url is required: the broker\'s base URL (http:// or https://)' }).min(1).max(2048);
const usernameSchema = z.string({ error: 'username is required: the login the broker expects (basic auth)' }).min(1).max(255).regex(/^[^:]*$/, { error: 'a basic-auth username has no colon' });
const passwordSchema = z.string({ error: 'password is required: the broker\'s basic-auth password' }).min(1).max(1024);

const createSchema = z.strictObject({ name: appNameSchema, url: urlSchema, username: usernameSchema, password: passwordSchema });
/** Any of them; none: the catalog is only fetched again. */
const updateSchema = z.strictObject({ name: appNameSchema.optional(), url: urlSchema.optional(), username: usernameSchema.optional(), password: passwordSchema.optional() });

/** Service brokers (OSB v2.17), platform admins only: the broker's password is never shown. `:broker` is an id or a name. */
@Controller('v1/service_brokers')
@UseGuards(TokenGuard)
export class ServiceBrokersController {
  constructor(private readonly brokers: ServiceBrokersService) {}

  @Get()
  async list(@CurrentActor() actor: Actor): Promise<{ resources: ServiceBrokerView[] }> {
    return { resources: await this.brokers.list(actor) };
  }

  @Post()
  @HttpCode(201)
  create(@CurrentActor() actor: Actor, @Body(new ZodBodyPipe(createSchema)) body: BrokerRequest): Promise<ServiceBrokerView> {
    return this.brokers.create(actor, body);
  }

  @Get(':broker')
  get(@CurrentActor() actor: Actor, @Param('broker') broker: string): Promise<ServiceBrokerView> {
    return this.brokers.get(actor, broker);
  }

  @Patch(':broker')
  update(@CurrentActor() actor: Actor, @Param('broker') broker: string, @Body(new ZodBodyPipe(updateSchema)) body: Partial<BrokerRequest>): Promise<ServiceBrokerView> {
    return this.brokers.update(actor, broker, body);
  }

  @Delete(':broker')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('broker') broker: string): Promise<void> {
    await this.brokers.delete(actor, broker);
  }
}
