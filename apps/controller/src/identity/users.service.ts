import { Injectable } from '@nestjs/common';
import type { User } from '../generated/prisma/client';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { TokenService, hashToken } from '../auth/token.service';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { PageRequest } from '../platform/common/pagination';
import { isUuid } from '../platform/common/query-params';
import { EventsService } from '../audit/events.service';
import { UsersRepository } from './users.repository';
import { meView, tokenView, userView, type MeView, type TokenView, type UserView } from './users.views';

/**
 * Users and API tokens. Platform admins see and create every user; others see themselves and the
 * users who share a space with them. A token is shown once, when created; only its hash is kept.
 * `me` stands for the caller wherever a user id is expected.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly access: AccessService,
    private readonly events: EventsService,
  ) {}

  async list(actor: Actor, filter: { names?: string[] }, page: PageRequest): Promise<{ users: UserView[]; total: number }> {
    const visibleSpaceIds = await this.access.visibleSpaceIds(actor);
    const { users, total } = await this.users.list({ visibleSpaceIds, selfId: actor.userId, names: filter.names }, page.skip, page.take);
    return { users: users.map(userView), total };
  }

  async me(actor: Actor): Promise<MeView> {
    const user = await this.users.findWithRoles(actor.userId);
    if (!user) throw notFound('user', actor.name);
    return meView(user);
  }

  /** The user if the actor may see it (itself, or sharing a space), else 404. */
  async find(actor: Actor, idOrMe: string): Promise<User> {
    const id = idOrMe === 'me' ? actor.userId : idOrMe;
    const user = isUuid(id) ? await this.users.find(id) : null;
    const visible = await this.access.visibleSpaceIds(actor);
    if (!user || (visible && user.id !== actor.userId && !(await this.users.hasRoleIn(user.id, visible)))) {
      throw notFound('user', idOrMe, 'list the users you can see with GET /v1/users');
    }
    return user;
  }

  async get(actor: Actor, id: string): Promise<UserView> {
    return userView(await this.find(actor, id));
  }

  async create(actor: Actor, input: { name: string; is_admin?: boolean }): Promise<UserView> {
    this.access.requirePlatformAdmin(actor, 'creating a user');
    const user = await this.users.create(input.name, input.is_admin ?? false);
    if (!user) throw new DomainException(ErrorCode.NameTaken, `a user named ${input.name} already exists: choose another name`);
    await this.events.record(actor, 'user-created', { type: 'user', id: user.id, name: user.name }, { is_admin: user.isAdmin });
    return userView(user);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const user = await this.find(actor, id);
    this.access.requirePlatformAdmin(actor, 'deleting a user');
    if (user.id === actor.userId) {
      throw new DomainException(ErrorCode.Unprocessable, 'you cannot delete yourself: ask another platform admin to do it');
    }
    await this.users.delete(user.id);
    await this.events.record(actor, 'user-deleted', { type: 'user', id: user.id, name: user.name });
  }

  /** A user's tokens are its own business: the user itself or a platform admin (403 for others who can see the user). */
  private async tokenOwner(actor: Actor, id: string, what: string): Promise<User> {
    const user = await this.find(actor, id);
    if (!actor.isAdmin && user.id !== actor.userId) {
      throw new DomainException(ErrorCode.Forbidden, `${what} of user ${user.name} is for that user or a platform admin: use your own (/v1/users/me/tokens)`);
    }
    return user;
  }

  async createToken(actor: Actor, id: string, name: string): Promise<TokenView & { token: string }> {
    const user = await this.tokenOwner(actor, id, 'creating a token');
    const secret = TokenService.generate();
    const token = await this.users.createToken(user.id, name, hashToken(secret));
    await this.events.record(actor, 'token-created', { type: 'user', id: user.id, name: user.name }, { token_id: token.id, token_name: token.name });
    return { ...tokenView(token), token: secret };
  }

  async listTokens(actor: Actor, id: string, page: PageRequest): Promise<{ tokens: TokenView[]; total: number }> {
    const user = await this.tokenOwner(actor, id, 'listing the tokens');
    const { tokens, total } = await this.users.listTokens(user.id, page.skip, page.take);
    return { tokens: tokens.map(tokenView), total };
  }

  async deleteToken(actor: Actor, id: string, tokenId: string): Promise<void> {
    const user = await this.tokenOwner(actor, id, 'deleting a token');
    const token = isUuid(tokenId) ? await this.users.findToken(user.id, tokenId) : null;
    if (!token || !(await this.users.deleteToken(user.id, token.id))) {
      throw notFound('token', tokenId, `of user ${user.name}: list them with GET /v1/users/${user.id}/tokens`);
    }
    await this.events.record(actor, 'token-deleted', { type: 'user', id: user.id, name: user.name }, { token_id: token.id, token_name: token.name });
  }
}
