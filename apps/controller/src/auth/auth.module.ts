import { Global, Module } from '@nestjs/common';
import { TokenRepository } from './token.repository';
import { TokenService } from './token.service';
import { InternalGuard, TokenGuard } from './token.guard';

@Global()
@Module({
  providers: [TokenRepository, TokenService, TokenGuard, InternalGuard],
  exports: [TokenService, TokenGuard, InternalGuard],
})
export class AuthModule {}
