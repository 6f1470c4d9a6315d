import { Injectable } from '@nestjs/common';
import { AppsRepository, type AppWithSpace } from '../apps/apps.repository';
import type { InstanceSpec } from '../placement/instances.service';
import type { ReleaseWithDroplet } from '../releases/releases.repository';
import { fqdnOf } from '../routing/route-projection.service';
import { RoutesRepository } from '../routing/routes.repository';
import { BlobstoreService } from '../storage/blobstore.service';
import { BoundServicesService } from '../services/bound-services.service';
import { instanceSpecFor } from './instance-specs';

/** What one process type of a release runs as: the spec of each of its instances, and how many. */
export interface ProcessSpec {
  spec: InstanceSpec;
  instances: number;
}

/**
 * The instance specs of a release's process types, with the app's current routes (as uris) and
 * bound services: what
 * a deployment starts, what the convergence loop and a scale start again. Reads only.
 */
@Injectable()
export class ReleaseSpecsService {
  constructor(
    private readonly apps: AppsRepository,
    private readonly routes: RoutesRepository,
    private readonly blobs: BlobstoreService,
    private readonly boundServices: BoundServicesService,
  ) {}

  /** Every process type of `release` that has a command, with its instance count; never the release phase. */
  async specsOf(app: AppWithSpace, release: ReleaseWithDroplet): Promise<ProcessSpec[]> {
    const routes = await this.routes.routesOfApp(app.id);
    const services = await this.boundServices.of(app.id);
    const out: ProcessSpec[] = [];
    for (const process of await this.apps.processes(app.id)) {
      // The release phase runs once per deployment as a task, never as instances.
      if (process.type === 'release') continue;
      const uris = routes
        .filter((r) => r.destinations.some((d) => d.appId === app.id && d.processType === process.type))
        .map((r) => fqdnOf(r.host, r.domain.name) + r.path);
      const spec = instanceSpecFor(app, release, process, this.blobs.url('droplets', release.droplet.blobId), uris, services);
      if (spec) out.push({ spec, instances: process.instances });
    }
    return out;
  }
}
