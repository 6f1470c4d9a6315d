import { Module } from '@nestjs/common';
import { CellQueuesService } from './cell-queues.service';
import { DeployerService } from './deployer.service';

@Module({ providers: [CellQueuesService, DeployerService], exports: [CellQueuesService, DeployerService] })
export class SchedulerModule {}
