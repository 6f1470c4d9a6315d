import { Injectable } from '@nestjs/common';
import type { Process } from '../generated/prisma/client';
import type { AppWithSpace } from '../apps/apps.repository';
import { ReleaseSpecsService } from '../deployments/release-specs.service';
import { InstancesService } from '../placement/instances.service';
import type { ReleaseWithDroplet } from '../releases/releases.repository';

/**
 * Brings one process type of the running release to its instance count without a deployment:
 * starts the missing indexes, stops the extra ones. Callers hold the app's row lock.
 */
@Injectable()
export class ProcessReconciler {
  constructor(
    private readonly specs: ReleaseSpecsService,
    private readonly instances: InstancesService,
  ) {}

  /** Starts missing instance indexes and stops extra ones of `process` of `release`. */
  async reconcile(app: AppWithSpace, release: ReleaseWithDroplet, process: Process): Promise<void> {
    const specs = await this.specs.specsOf(app, release);
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
}
