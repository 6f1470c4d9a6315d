import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { PlacementModule } from '../placement/placement.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { CellDrainController } from './cell-drain.controller';
import { ConvergerService } from './converger.service';
import { LeaderElectionService } from './leader-election.service';

@Module({
  imports: [AuthModule, AuditModule, AppsModule, LifecycleModule, PlacementModule],
  controllers: [CellDrainController],
  providers: [LeaderElectionService, ConvergerService],
  exports: [ConvergerService, LeaderElectionService],
})
export class ConvergenceModule {}
