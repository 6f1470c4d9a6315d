import { Injectable } from '@nestjs/common';
import type { Process } from '../../generated/prisma/client';
import type { Actor } from '../../auth/actor';
import { AppsRepository } from '../../apps/apps.repository';
import { EventsService } from '../../audit/events.service';
import { appTarget } from '../../apps/app-target';
import type { ProcessUpdate } from '../env-rules';
import { LifecycleService } from '../lifecycle.service';

/**
 * One write: `PATCH /v1/apps/:app/processes/:type`, its command and health check. Nothing
 * restarts: the next release or restart starts instances with them.
 */
@Injectable()
export class UpdateProcess {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly appsRepo: AppsRepository,
    private readonly events: EventsService,
  ) {}

  async run(actor: Actor, idOrName: string, type: string, update: ProcessUpdate): Promise<Process> {
    const { app, process } = await this.lifecycle.process(actor, idOrName, type, 'write');
    const updated = await this.appsRepo.updateProcess(process.id, {
      ...(update.command !== undefined ? { command: update.command } : {}),
      ...(update.health_check
        ? {
            healthCheckType: update.health_check.type.toUpperCase() as 'PORT' | 'HTTP' | 'PROCESS',
            healthCheckEndpoint: update.health_check.endpoint ?? null,
            ...(update.health_check.timeout ? { healthCheckTimeoutS: update.health_check.timeout } : {}),
          }
        : {}),
    });
    await this.events.record(actor, 'process-updated', appTarget(app), { process_type: type, ...update });
    return updated;
  }
}
