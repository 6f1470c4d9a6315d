import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';
import type { RequestWithActor } from './actor';
import { TokenService } from './token.service';

/** Requires `Authorization: Bearer <api token>`. */
@Injectable()
export class TokenGuard implements CanActivate {
  constructor(private readonly tokens: TokenService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) {
      throw new DomainException(
        ErrorCode.Unauthenticated,
        'missing API token: send "Authorization: Bearer <token>" (the admin token is in .paas/admin-token)',
      );
    }
    const actor = await this.tokens.actorOf(match[1]);
    if (!actor) {
      throw new DomainException(ErrorCode.Unauthenticated, 'invalid API token: check the token you sent, or create a new one');
    }
    (req as RequestWithActor).actor = actor;
    return true;
  }
}

/** Requires the internal token (cells, git hooks) in `X-Paas-Internal-Token`. */
@Injectable()
export class InternalGuard implements CanActivate {
  constructor(private readonly tokens: TokenService) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const token = req.headers['x-paas-internal-token'];
    if (!this.tokens.isInternal(typeof token === 'string' ? token : undefined)) {
      throw new DomainException(ErrorCode.Unauthenticated, 'internal endpoint: a valid X-Paas-Internal-Token is required');
    }
    return true;
  }
}
