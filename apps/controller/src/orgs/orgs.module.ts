import { Module } from '@nestjs/common';
import { OrgsController } from './orgs.controller';
import { OrgsService } from './orgs.service';
import { SpacesController } from './spaces.controller';
import { SpacesService } from './spaces.service';
import { TenancyRepository } from './tenancy.repository';

/** Tenancy: orgs, spaces and the roles users hold in spaces. */
@Module({
  controllers: [OrgsController, SpacesController],
  providers: [TenancyRepository, OrgsService, SpacesService],
  exports: [OrgsService, SpacesService],
})
export class OrgsModule {}
