import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { DomainsController } from './domains.controller';
import { DomainsRepository } from './domains.repository';
import { DomainsService } from './domains.service';
import { DomainProbeRepository } from './domain-probe.repository';
import { DomainTokensRepository } from './domain-tokens.repository';
import { DomainVerificationService } from './domain-verification.service';
import { HostOwnershipService } from './host-ownership.service';
import { HostSyncService } from './host-sync.service';
import { RouteDestinationsService } from './route-destinations.service';
import { RouteHostsRepository } from './route-hosts.repository';
import { RouteProjectionRepository } from './route-projection.repository';
import { RouteProjectionService } from './route-projection.service';
import { RoutesApiRepository } from './routes-api.repository';
import { RoutesController } from './routes.controller';
import { RoutesRepository } from './routes.repository';
import { RoutesService } from './routes.service';
import { StoredRoutePathsService } from './stored-route-paths.service';

/**
 * Domains, routes and route destinations (the APIs), the route model and host ownership, and the
 * projection of routes into Redis for the routers; used by apps, manifests, spaces and deployments.
 */
@Module({
  imports: [AuthModule, AuditModule],
  controllers: [DomainsController, RoutesController],
  providers: [
    DomainsRepository,
    DomainsService,
    DomainTokensRepository,
    DomainProbeRepository,
    DomainVerificationService,
    RoutesRepository,
    RouteProjectionRepository,
    RouteHostsRepository,
    HostOwnershipService,
    StoredRoutePathsService,
    RouteProjectionService,
    RoutesApiRepository,
    HostSyncService,
    RoutesService,
    RouteDestinationsService,
  ],
  exports: [RoutesRepository, RouteHostsRepository, HostOwnershipService, RouteProjectionService, DomainsService],
})
export class RoutingModule {}
