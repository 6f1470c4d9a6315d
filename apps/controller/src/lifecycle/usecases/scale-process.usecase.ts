import { Injectable } from '@nestjs/common';
import { formatCpu } from '@paas/contracts';
import type { Deployment, Process } from '../../generated/prisma/client';
import { notFound } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { AppsRepository } from '../../apps/apps.repository';
import { EventsService } from '../../audit/events.service';
import { DeploymentsService } from '../../deployments/deployments.service';
import { ReleasesRepository, type ReleaseWithDroplet } from '../../releases/releases.repository';
import { appTarget } from '../../apps/app-target';
import type { ChangeResult } from '@paas/contracts';
import type { ScaleRequest } from '../env-rules';
import { LifecycleService } from '../lifecycle.service';
import { ProcessReconciler } from '../process-reconciler';

/**
 * One write: `POST /v1/apps/:app/processes/:type/actions/scale`, under the app's row lock. A new
 * instance count starts or stops instances of the running release; a new memory, disk or cpu
 * limit makes a release and rolls it out (instances restart with the limit). 409 while a
 * deployment runs.
 */
@Injectable()
export class ScaleProcess {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly appsRepo: AppsRepository,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsService,
    private readonly events: EventsService,
    private readonly reconciler: ProcessReconciler,
  ) {}

  async run(actor: Actor, idOrName: string, type: string, request: ScaleRequest): Promise<ChangeResult & { process: Process }> {
    const { app } = await this.lifecycle.process(actor, idOrName, type, 'write');
    const outcome = await this.appsRepo.withLock(app.id, async (tx, locked) => {
      if (!locked) throw notFound('app', app.name, 'list apps with GET /v1/apps');
      const before = await this.appsRepo.processOf(app.id, type, tx);
      const limitsChange =
        (request.memory_mb !== undefined && request.memory_mb !== before.memoryMb) ||
        (request.disk_mb !== undefined && request.disk_mb !== before.diskMb) ||
        (request.cpu_millicores !== undefined && request.cpu_millicores !== before.cpuMillicores);
      if (limitsChange || request.instances !== undefined) await this.deployments.refuseWhileDeploying(app, tx);
      const process = await this.appsRepo.updateProcess(
        before.id,
        {
          ...(request.instances !== undefined ? { instances: request.instances } : {}),
          ...(request.memory_mb !== undefined ? { memoryMb: request.memory_mb } : {}),
          ...(request.disk_mb !== undefined ? { diskMb: request.disk_mb } : {}),
          ...(request.cpu_millicores !== undefined ? { cpuMillicores: request.cpu_millicores } : {}),
        },
        tx,
      );
      let release: ReleaseWithDroplet | undefined;
      let deployment: Deployment | undefined;
      const currentId = locked.currentReleaseId;
      if (limitsChange && currentId && locked.state === 'STARTED') {
        const current = await this.releases.get(currentId, tx);
        release = await this.releases.create(
          {
            appId: app.id,
            dropletId: current.dropletId,
            env: current.env as Record<string, string>,
            processTypes: current.processTypes as Record<string, string>,
            description: `${type} scaled to ${process.memoryMb} MB memory, ${process.diskMb} MB disk, ${process.cpuMillicores === null ? 'no cpu quota' : `${formatCpu(process.cpuMillicores)} cpu`}`,
          },
          tx,
        );
        deployment = await this.deployments.begin(app, release, tx);
      } else if (currentId && locked.state === 'STARTED') {
        // Instance count only: place or stop instances while the row lock is held.
        const current = await this.releases.find(currentId);
        if (current) await this.reconciler.reconcile(app, current, process);
      }
      await this.events.record(actor, 'app-scaled', appTarget(app), { process_type: type, ...request }, tx);
      return { process, release, deployment };
    });
    if (outcome.release && outcome.deployment) {
      await this.deployments.execute(actor, outcome.deployment, app, outcome.release, { wait: false });
    }
    return { process: outcome.process, release_version: outcome.release?.version ?? null, deployment_id: outcome.deployment?.id ?? null };
  }
}
