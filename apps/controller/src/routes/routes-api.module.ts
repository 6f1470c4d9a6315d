import { Module } from '@nestjs/common';
import { DomainsModule } from '../domains/domains.module';
import { HostSyncService } from './host-sync.service';
import { RouteDestinationsService } from './route-destinations.service';
import { RoutesApiRepository } from './routes-api.repository';
import { RoutesController } from './routes.controller';
import { RoutesService } from './routes.service';

/** The routes API: routes and route destinations (route bindings). The model and its Redis projection live in RoutesCoreModule. */
@Module({
  imports: [DomainsModule],
  controllers: [RoutesController],
  providers: [RoutesApiRepository, HostSyncService, RoutesService, RouteDestinationsService],
})
export class RoutesApiModule {}
