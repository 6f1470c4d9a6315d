import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { CurrentActor, type Actor } from '../auth/actor';
import { TokenGuard } from '../auth/token.guard';
import { InstancesService } from '../placement/instances.service';
import { ReleasesRepository } from '../releases/releases.repository';
import { LifecycleService } from './lifecycle.service';
import { instanceListView } from './views';

/** An app's instances, all of them or those of one process type, with their limits and crash history. */
@Controller('v1/apps/:app')
@UseGuards(TokenGuard)
export class InstancesController {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly releases: ReleasesRepository,
    private readonly instances: InstancesService,
  ) {}

  @Get('processes/:type/instances')
  async processInstances(@CurrentActor() actor: Actor, @Param('app') app: string, @Param('type') type: string) {
    const { app: found, process } = await this.lifecycle.process(actor, app, type, 'read');
    const all = await this.instances.observed(found.id);
    const limits = new Map([[process.type, { memoryMb: process.memoryMb, diskMb: process.diskMb, instances: found.state === 'STARTED' ? process.instances : 0 }]]);
    const releaseVersions = await this.releases.versionsOf(found.id, all.map((i) => i.releaseId));
    return instanceListView(all, await this.instances.history(found.id), { processType: type, limits, releaseVersions });
  }

  @Get('instances')
  async instancesOf(@CurrentActor() actor: Actor, @Param('app') app: string) {
    const { app: found, processes } = await this.lifecycle.processes(actor, app);
    const limits = new Map(processes.map((p) => [p.type, { memoryMb: p.memoryMb, diskMb: p.diskMb, instances: found.state === 'STARTED' ? p.instances : 0 }]));
    const all = await this.instances.observed(found.id);
    const releaseVersions = await this.releases.versionsOf(found.id, all.map((i) => i.releaseId));
    return instanceListView(all, await this.instances.history(found.id), { limits, releaseVersions });
  }
}
