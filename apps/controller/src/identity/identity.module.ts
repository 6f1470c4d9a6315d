import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { RoutingModule } from '../routing/routing.module';
import { OrgsController } from './orgs.controller';
import { OrgsService } from './orgs.service';
import { SpacesController } from './spaces.controller';
import { SpacesService } from './spaces.service';
import { TenancyRepository } from './tenancy.repository';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/** Users and their API tokens; tenancy: orgs, spaces and the roles users hold in spaces. */
@Module({
  imports: [AuthModule, AuditModule, RoutingModule],
  controllers: [UsersController, OrgsController, SpacesController],
  providers: [UsersRepository, UsersService, TenancyRepository, OrgsService, SpacesService],
})
export class IdentityModule {}
