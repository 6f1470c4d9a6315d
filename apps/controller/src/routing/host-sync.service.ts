import { Injectable } from '@nestjs/common';
import { RouteProjectionService } from './route-projection.service';

/**
 * Re-projects hosts one at a time per host within this process. Two changes to one route commit
 * in order, but their re-projections (read Postgres, write Redis) could otherwise interleave so
 * that the older read is written last; queued per host, a sync that starts after the last commit
 * is also the last to write. Across controller replicas the same guarantee needs a lock inside
 * RouteProjectionService (not done here).
 */
@Injectable()
export class HostSyncService {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly projection: RouteProjectionService) {}

  sync(fqdn: string): Promise<void> {
    const next = (this.tails.get(fqdn) ?? Promise.resolve()).catch(() => undefined).then(() => this.projection.syncHost(fqdn));
    this.tails.set(fqdn, next);
    const forget = () => {
      if (this.tails.get(fqdn) === next) this.tails.delete(fqdn);
    };
    next.then(forget, forget);
    return next;
  }
}
