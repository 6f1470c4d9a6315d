import { Global, Module } from '@nestjs/common';
import { RouteProjectionService } from './route-projection.service';
import { RoutesRepository } from './routes.repository';

/** The route model and its projection into Redis, used by apps and by the routes API. */
@Global()
@Module({ providers: [RoutesRepository, RouteProjectionService], exports: [RoutesRepository, RouteProjectionService] })
export class RoutesCoreModule {}
