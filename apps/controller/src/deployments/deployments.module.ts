import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { PlacementModule } from '../placement/placement.module';
import { ReleasesModule } from '../releases/releases.module';
import { RoutingModule } from '../routing/routing.module';
import { SecurityGroupsModule } from '../security-groups/security-groups.module';
import { ServicesModule } from '../services/services.module';
import { StorageModule } from '../storage/storage.module';
import { DeploymentRunner } from './deployment-runner.service';
import { DeploymentSteps } from './deployment-steps';
import { DeploymentSweeper } from './deployment-sweeper.service';
import { DeploymentsController } from './deployments.controller';
import { DeploymentsRepository } from './deployments.repository';
import { DeploymentsService } from './deployments.service';
import { ReleasePhaseService } from './release-phase.service';
import { ReleaseSpecsService } from './release-specs.service';
import { CancelDeployment } from './usecases/cancel-deployment.usecase';

/** Deployments: rolling a release out to its instances (release command first), their API and cancellation. */
@Module({
  imports: [AuthModule, AuditModule, AppsModule, ReleasesModule, RoutingModule, PlacementModule, SecurityGroupsModule, StorageModule, ServicesModule],
  controllers: [DeploymentsController],
  providers: [
    DeploymentsRepository,
    DeploymentsService,
    DeploymentRunner,
    DeploymentSteps,
    DeploymentSweeper,
    ReleasePhaseService,
    ReleaseSpecsService,
    CancelDeployment,
  ],
  exports: [DeploymentsService, DeploymentsRepository, ReleaseSpecsService],
})
export class DeploymentsModule {}
