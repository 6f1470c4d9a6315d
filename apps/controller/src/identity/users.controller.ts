import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { ZodBodyPipe } from '../platform/common/zod-body.pipe';
import { paginated, parsePage, type Paginated } from '../platform/common/pagination';
import { csvParam } from '../platform/common/query-params';
import { createTokenSchema, createUserSchema, type CreateTokenRequest, type CreateUserRequest } from './users.schemas';
import { UsersService } from './users.service';
import type { MeView, TokenView, UserView } from './users.views';

/** Users (`me` is the caller) and their API tokens. */
@Controller('v1/users')
@UseGuards(TokenGuard)
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  async list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Paginated<UserView>> {
    const page = parsePage(query);
    const { users, total } = await this.users.list(actor, { names: csvParam(query, 'names') }, page);
    return paginated(users, total, page, '/v1/users', query);
  }

  @Post()
  @HttpCode(201)
  create(@CurrentActor() actor: Actor, @Body(new ZodBodyPipe(createUserSchema)) body: CreateUserRequest): Promise<UserView> {
    return this.users.create(actor, body);
  }

  @Get('me')
  me(@CurrentActor() actor: Actor): Promise<MeView> {
    return this.users.me(actor);
  }

  @Get(':id')
  get(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<UserView> {
    return this.users.get(actor, id);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    await this.users.delete(actor, id);
  }

  @Post(':id/tokens')
  @HttpCode(201)
  createToken(
    @CurrentActor() actor: Actor,
    @Param('id') id: string,
    @Body(new ZodBodyPipe(createTokenSchema)) body: CreateTokenRequest,
  ): Promise<TokenView & { token: string }> {
    return this.users.createToken(actor, id, body.name);
  }

  @Get(':id/tokens')
  async tokens(@CurrentActor() actor: Actor, @Param('id') id: string, @Query() query: Record<string, unknown>): Promise<Paginated<TokenView>> {
    const page = parsePage(query);
    const { tokens, total } = await this.users.listTokens(actor, id, page);
    return paginated(tokens, total, page, `/v1/users/${id}/tokens`, query);
  }

  @Delete(':id/tokens/:token_id')
  @HttpCode(204)
  async deleteToken(@CurrentActor() actor: Actor, @Param('id') id: string, @Param('token_id') tokenId: string): Promise<void> {
    await this.users.deleteToken(actor, id, tokenId);
  }
}
