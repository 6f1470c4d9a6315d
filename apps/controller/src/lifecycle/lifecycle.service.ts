import { Inject, Injectable } from '@nestjs/common';
import { formatCpu } from '@paas/contracts';
import type { Process } from '../generated/prisma/client';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { Actor } from '../auth/actor';
import { AppsRepository, type AppWithSpace } from '../apps/apps.repository';
import { AppsService } from '../apps/apps.service';
import { DeploymentsRepository } from '../deployments/deployments.repository';
import { DeploymentsService, inProgress, prunedDroplet } from '../deployments/deployments.service';
import { EventsService } from '../audit/events.service';
import { ReleasePruningService } from '../releases/release-pruning.service';
import { ReleasesRepository, type ReleaseWithDroplet } from '../releases/releases.repository';
import { InstancesService } from '../placement/instances.service';
import { applyEnvPatch, type EnvPatch, type ProcessUpdate, type ScaleRequest } from './env-rules';

export interface ChangeResult {
  release_version: number | null;
  deployment_id: string | null;
}

/**
 * Changes that move running instances: env, scale, start, stop, restart, rollback. Each holds the
 * app's row lock for its transaction, so concurrent changes apply one after the other: no lost
 * update, no duplicate release, and a change that needs a deployment while one runs gets 409.
 */
@Injectable()
export class LifecycleService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly apps: AppsService,
    private readonly appsRepo: AppsRepository,
    private readonly releases: ReleasesRepository,
    private readonly deployments: DeploymentsService,
    private readonly deploymentsRepo: DeploymentsRepository,
    private readonly instances: InstancesService,
    private readonly events: EventsService,
    private readonly pruning: ReleasePruningService,
  ) {}

  async env(actor: Actor, idOrName: string): Promise<{ var: Record<string, string> }> {
    const app = await this.apps.resolve(actor, idOrName, 'read');
    return { var: app.env as Record<string, string> };
  }

  /** Merges the patch; when the app runs a release, makes a release with the new env and rolls it out. */
  async updateEnv(actor: Actor, idOrName: string, patch: EnvPatch): Promise<ChangeResult & { var: Record<string, string> }> {
    const app = await this.apps.resolve(actor, idOrName, 'write');
    const outcome = await this.appsRepo.withLock(app.id, async (tx, locked) => {
      if (!locked) throw notFound('app', app.name, 'list apps with GET /v1/apps');
      const env = applyEnvPatch(locked.env, patch.var);
      await this.appsRepo.setEnv(app.id, env, tx);
      let release: ReleaseWithDroplet | undefined;
      let deployment;
      if (locked.currentReleaseId) {
        const current = await this.releases.get(locked.currentReleaseId, tx);
        release = await this.releases.create(
          { appId: app.id, dropletId: current.dropletId, env, processTypes: current.processTypes as Record<string, string>, description: 'env changed' },
          tx,
        );
        deployment = await this.deployments.begin(app, release, tx);
      }
      await this.events.record(actor, 'app-env-changed', target(app), { names: Object.keys(patch.var) }, tx);
      return { env, release, deployment };
    });
    if (outcome.release && outcome.deployment) {
      await this.deployments.execute(actor, outcome.deployment, app, outcome.release, { wait: false });
    }
    return { var: outcome.env, release_version: outcome.release?.version ?? null, deployment_id: outcome.deployment?.id ?? null };
  }

  async process(actor: Actor, idOrName: string, type: string, action: 'read' | 'write'): Promise<{ app: AppWithSpace; process: Process }> {
    const app = await this.apps.resolve(actor, idOrName, action);
    const process = (await this.appsRepo.processes(app.id)).find((p) => p.type === type);
    if (!process) throw notFound('process type', `${type} of ${app.name}`, 'list them with GET /v1/apps/NAME/processes');
    return { app, process };
  }

  /**
   * Scales a process. A new instance count starts or stops instances of the running release; a
   * new memory, disk or cpu limit makes a release and rolls it out (instances restart with the limit).
   */
  async scale(actor: Actor, idOrName: string, type: string, request: ScaleRequest): Promise<ChangeResult & { process: Process }> {
    const { app } = await this.process(actor, idOrName, type, 'write');
    const outcome = await this.appsRepo.withLock(app.id, async (tx, locked) => {
      if (!locked) throw notFound('app', app.name, 'list apps with GET /v1/apps');
      const before = await this.appsRepo.processOf(app.id, type, tx);
      const limitsChange =
        (request.memory_mb !== undefined && request.memory_mb !== before.memoryMb) ||
        (request.disk_mb !== undefined && request.disk_mb !== before.diskMb) ||
        (request.cpu_millicores !== undefined && request.cpu_millicores !== before.cpuMillicores);
      const active = await this.deploymentsRepo.active(app.id, tx);
      if (active && (limitsChange || request.instances !== undefined)) throw inProgress(app.name);
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
      let deployment;
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
        if (current) await this.reconcile(app, current, process);
      }
      await this.events.record(actor, 'app-scaled', target(app), { process_type: type, ...request }, tx);
      return { process, release, deployment };
    });
    if (outcome.release && outcome.deployment) {
      await this.deployments.execute(actor, outcome.deployment, app, outcome.release, { wait: false });
    }
    return { process: outcome.process, release_version: outcome.release?.version ?? null, deployment_id: outcome.deployment?.id ?? null };
  }

  /** Starts missing instance indexes and stops extra ones of one process type of the running release. */
  private async reconcile(app: AppWithSpace, release: ReleaseWithDroplet, process: Process): Promise<void> {
    const specs = await this.deployments.specsOf(app, release);
    const spec = specs.find((s) => s.spec.processType === process.type)?.spec;
    if (!spec) return;
    const mine = (await this.instances.actual(app.id)).filter((i) => i.processType === process.type && i.state !== 'CRASHED');
    const have = new Set(mine.map((i) => i.index));
    const missing = Array.from({ length: process.instances }, (_, i) => i).filter((i) => !have.has(i));
    const { unplaced } = await this.instances.startMany(spec, missing);
    // What fits nowhere now is reported (GET .../instances) and retried by the convergence loop.
    await this.instances.markUnplaced(app.id, process.type, unplaced);
    for (const extra of mine.filter((i) => i.index >= process.instances)) await this.instances.stop(extra, 'scaled down');
  }

  async updateProcess(actor: Actor, idOrName: string, type: string, update: ProcessUpdate): Promise<Process> {
    const { app, process } = await this.process(actor, idOrName, type, 'write');
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
    await this.events.record(actor, 'process-updated', target(app), { process_type: type, ...update });
    return updated;
  }

  async start(actor: Actor, idOrName: string): Promise<ChangeResult> {
    const app = await this.apps.resolve(actor, idOrName, 'write');
    await this.appsRepo.setState(app.id, 'STARTED');
    await this.events.record(actor, 'app-started', target(app));
    const current = app.currentReleaseId ? await this.releases.find(app.currentReleaseId) : null;
    if (!current) return { release_version: null, deployment_id: null };
    await this.appsRepo.withLock(app.id, async () => {
      for (const process of await this.appsRepo.processes(app.id)) await this.reconcile(app, current, process);
    });
    return { release_version: current.version, deployment_id: null };
  }

  async stop(actor: Actor, idOrName: string): Promise<ChangeResult> {
    const app = await this.apps.resolve(actor, idOrName, 'write');
    if (await this.deploymentsRepo.active(app.id)) throw inProgress(app.name);
    await this.appsRepo.setState(app.id, 'STOPPED');
    for (const i of await this.instances.actual(app.id)) await this.instances.stop(i, 'app stopped');
    await this.events.record(actor, 'app-stopped', target(app));
    return { release_version: null, deployment_id: null };
  }

  /** Rolling restart: new instances of the current release replace the running ones. */
  async restart(actor: Actor, idOrName: string): Promise<ChangeResult> {
    const app = await this.apps.resolve(actor, idOrName, 'write');
    const current = app.currentReleaseId ? await this.releases.find(app.currentReleaseId) : null;
    if (!current) throw new DomainException(ErrorCode.Unprocessable, `${app.name} has no release yet: push it first`);
    await this.appsRepo.setState(app.id, 'STARTED');
    const deployment = await this.deployments.deploy(actor, app, current, { wait: false });
    await this.events.record(actor, 'app-restarted', target(app));
    return { release_version: current.version, deployment_id: deployment.id };
  }

  /** A new release with the droplet and env of release `version`, rolled out. */
  async rollback(actor: Actor, idOrName: string, version: number): Promise<ChangeResult> {
    const app = await this.apps.resolve(actor, idOrName, 'write');
    const target_ = await this.releases.findVersion(app.id, version);
    if (!target_) throw notFound('release', `v${version} of ${app.name}`, 'list releases with GET /v1/apps/NAME/releases');
    const { release, deployment } = await this.appsRepo.withLock(app.id, async (tx) => {
      if (await this.deploymentsRepo.active(app.id, tx)) throw inProgress(app.name);
      // Under the app's lock, as pruning marks droplets: never a release on a droplet being deleted.
      const droplet = await this.releases.droplet(target_.dropletId, tx);
      if (droplet.prunedAt) {
        throw prunedDroplet(app.name, version, this.pruning.kept, await this.releases.rollbackTargets(app.id));
      }
      const release = await this.releases.create(
        {
          appId: app.id,
          dropletId: target_.dropletId,
          env: target_.env as Record<string, string>,
          processTypes: target_.processTypes as Record<string, string>,
          description: `rollback to v${version}`,
        },
        tx,
      );
      await this.appsRepo.setEnvAndStart(app.id, target_.env as Record<string, string>, tx);
      const deployment = await this.deployments.begin(app, release, tx);
      await this.events.record(actor, 'app-rolled-back', target(app), { to_version: version, release: release.version }, tx);
      return { release, deployment };
    });
    await this.deployments.execute(actor, deployment, app, release, { wait: false });
    this.logger.info({ app: app.name, to: version }, 'app-rolled-back');
    return { release_version: release.version, deployment_id: deployment.id };
  }
}

function target(app: AppWithSpace) {
  return { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId };
}
