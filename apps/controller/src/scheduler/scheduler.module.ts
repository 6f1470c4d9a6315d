import { Global, Module } from '@nestjs/common';
import { CellQueuesService } from './cell-queues.service';
import { InstancesService } from './instances.service';

@Global()
@Module({ providers: [CellQueuesService, InstancesService], exports: [CellQueuesService, InstancesService] })
export class SchedulerModule {}
