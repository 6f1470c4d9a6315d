import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { CellDrainController } from './cell-drain.controller';
import { ConvergerService } from './converger.service';
import { LeaderElectionService } from './leader-election.service';

@Module({
  imports: [AppsModule, LifecycleModule],
  controllers: [CellDrainController],
  providers: [LeaderElectionService, ConvergerService],
  exports: [ConvergerService, LeaderElectionService],
})
export class ConvergenceModule {}
