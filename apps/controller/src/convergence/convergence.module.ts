import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuditModule } from '../audit/audit.module';
import { PlacementModule } from '../placement/placement.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { ReleasesModule } from '../releases/releases.module';
import { ServicesModule } from '../services/services.module';
import { ConvergerService } from './converger.service';
import { LeaderElectionService } from './leader-election.service';
import { ServicePassesLoop } from './service-passes-loop.service';

/**
 * The convergence loop (leader only): compares desired and actual instances and starts or stops
 * the difference, on lost and drained cells too; and, on the same leader, the service instances'
 * provisioning and backups passes.
 */
@Module({
  imports: [AuditModule, AppsModule, ReleasesModule, DeploymentsModule, PlacementModule, ServicesModule],
  providers: [LeaderElectionService, ConvergerService, ServicePassesLoop],
  exports: [ConvergerService, LeaderElectionService],
})
export class ConvergenceModule {}
