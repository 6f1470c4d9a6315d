import { Injectable } from '@nestjs/common';
import { BUILTIN_OFFERINGS, type BoundService } from '@paas/contracts';
import { bindingCredentials } from './credentials';
import { credentialsSchema } from './provided-credentials';
import { endpointOf, kindOf } from './service-admin.service';
import { ServiceBindingsRepository } from './service-bindings.repository';

/**
 * What an app's containers are given of the instances bound to it (`services` of start-instance
 * and run-task jobs), as the bindings are when the job is built. The credentials name the
 * instance's endpoint as last reported (so a server reported at a new port is reached there);
 * the first binding of each kind carries its offering's URL variable (DATABASE_URL, REDIS_URL).
 * User-provided and brokered bindings have no endpoint (the cells open nothing for them: the
 * app's security groups decide what it reaches) and set no URL variable: label `user-provided`
 * with the instance's credentials and tags as they are now, or the broker's offering name with
 * the binding's credentials from the broker and the catalog's tags.
 */
@Injectable()
export class BoundServicesService {
  constructor(private readonly bindings: ServiceBindingsRepository) {}

  async of(appId: string): Promise<BoundService[]> {
    const seen = new Set<string>();
    const out: BoundService[] = [];
    for (const binding of await this.bindings.ofApp(appId)) {
      const instance = binding.serviceInstance;
      const common = { name: instance.name, tags: [...instance.tags], instanceId: instance.id, bindingId: binding.id };
      if (instance.type === 'user-provided') {
        const credentials = credentialsSchema.safeParse(instance.credentials ?? {});
        out.push({ ...common, label: 'user-provided', plan: '', credentials: credentials.success ? credentials.data : {} });
        continue;
      }
      if (instance.type === 'brokered') {
        const credentials = credentialsSchema.safeParse(binding.credentials);
        out.push({ ...common, label: instance.offering, plan: instance.plan, credentials: credentials.success ? credentials.data : {} });
        continue;
      }
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
