import { Injectable } from '@nestjs/common';
import type { Process } from '../generated/prisma/client';
import { notFound } from '../platform/common/domain.exception';
import type { Actor } from '../auth/actor';
import { AppsRepository, type AppWithSpace } from '../apps/apps.repository';
import { AppsService } from '../apps/apps.service';

/**
 * The reads of an app's lifecycle: its env and its process types, each after the actor's access
 * check. The changes that move instances are use cases of their own (usecases/: env, scale,
 * process update, start, stop, restart, rollback).
 */
@Injectable()
export class LifecycleService {
  constructor(
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
  ) {}

  async env(actor: Actor, idOrName: string): Promise<{ var: Record<string, string> }> {
    const app = await this.apps.resolve(actor, idOrName, 'read');
    return { var: app.env as Record<string, string> };
  }

  /** The app and its process types, oldest first. */
  async processes(actor: Actor, idOrName: string): Promise<{ app: AppWithSpace; processes: Process[] }> {
    const app = await this.apps.resolve(actor, idOrName, 'read');
    return { app, processes: await this.appsRepo.processes(app.id) };
  }

  /** One process type of the app; 404 naming how to list them. */
  async process(actor: Actor, idOrName: string, type: string, action: 'read' | 'write'): Promise<{ app: AppWithSpace; process: Process }> {
    const app = await this.apps.resolve(actor, idOrName, action);
    const process = (await this.appsRepo.processes(app.id)).find((p) => p.type === type);
    if (!process) throw notFound('process type', `${type} of ${app.name}`, 'list them with GET /v1/apps/NAME/processes');
    return { app, process };
  }
}
