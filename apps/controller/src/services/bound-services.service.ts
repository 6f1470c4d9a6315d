import { Injectable } from '@nestjs/common';
import { BUILTIN_OFFERINGS, type BoundService } from '@paas/contracts';
import { bindingCredentials } from './credentials';
import { endpointOf, kindOf } from './service-admin.service';
import { ServiceBindingsRepository } from './service-bindings.repository';

/**
 * What an app's containers are given of the instances bound to it (`services` of start-instance
 * and run-task jobs), as the bindings are when the job is built. The credentials name the
 * instance's endpoint as last reported (so a server reported at a new port is reached there);
 * the first binding of each kind carries its offering's URL variable (DATABASE_URL, REDIS_URL).
 */
@Injectable()
export class BoundServicesService {
  constructor(private readonly bindings: ServiceBindingsRepository) {}

  async of(appId: string): Promise<BoundService[]> {
    const seen = new Set<string>();
    const out: BoundService[] = [];
    for (const binding of await this.bindings.ofApp(appId)) {
      const instance = binding.serviceInstance;
      const offering = BUILTIN_OFFERINGS.find((o) => o.name === instance.offering);
      if (!offering || !instance.host || !instance.port || binding.username === null || binding.password === null) continue;
      const endpoint = endpointOf(instance);
      const first = !seen.has(offering.name);
      seen.add(offering.name);
      out.push({
        label: offering.name,
        name: instance.name,
        plan: instance.plan,
        tags: [...offering.tags],
        instanceId: instance.id,
        bindingId: binding.id,
        ...(first ? { urlVariable: offering.urlVariable } : {}),
        credentials: bindingCredentials(kindOf(instance), instance.id, endpoint, { username: binding.username, password: binding.password }),
        endpoint,
      });
    }
    return out;
  }
}
