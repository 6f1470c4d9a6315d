import { Module } from '@nestjs/common';
import { AccessService } from './access.service';
import { SpaceRolesRepository } from './space-roles.repository';
import { TokenRepository } from './token.repository';
import { TokenService } from './token.service';
import { InternalGuard, TokenGuard } from './token.guard';

/** Who is calling and what they may do: API tokens, the guards of every controller, space access checks. */
@Module({
  providers: [TokenRepository, SpaceRolesRepository, TokenService, TokenGuard, InternalGuard, AccessService],
  exports: [TokenService, TokenGuard, InternalGuard, AccessService],
})
export class AuthModule {}
