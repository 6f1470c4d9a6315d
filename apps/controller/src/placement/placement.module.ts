import { Module } from '@nestjs/common';
import { SecurityGroupsModule } from '../security-groups/security-groups.module';
import { CellQueuesService } from './cell-queues.service';
import { InstancesService } from './instances.service';

/** Where instances run: the cells' job queues and the actual instances reported in Redis. */
@Module({
  imports: [SecurityGroupsModule],
  providers: [CellQueuesService, InstancesService],
  exports: [CellQueuesService, InstancesService],
})
export class PlacementModule {}
