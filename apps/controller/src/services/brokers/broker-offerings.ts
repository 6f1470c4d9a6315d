import type { ServiceBrokerView, ServiceOfferingView, ServicePlanView } from '@paas/contracts';
import type { ServiceBroker } from '../../generated/prisma/client';
import { brokerCatalogSchema, type BrokerCatalog, type BrokerPlan, type BrokerService } from './osb-client';

/**
 * Brokers' catalogs as the marketplace shows them, and the lookups the API makes in them. A
 * broker's offering names are unique across the marketplace (a registration that would clash
 * is refused), so an offering name alone says which broker provisions it. Pure.
 */

/** The catalog as stored (it was validated when fetched; an unreadable one counts as empty). */
export function catalogOf(broker: Pick<ServiceBroker, 'catalog'>): BrokerCatalog {
  const parsed = brokerCatalogSchema.safeParse(broker.catalog);
  return parsed.success ? parsed.data : { services: [] };
}

/** A brokered plan: the platform does not size it (memory and disk 0: the broker's business). */
export function brokerPlanView(service: BrokerService, plan: BrokerPlan): ServicePlanView {
  return { name: plan.name, offering: service.name, description: plan.description, memory_mb: 0, disk_mb: 0, free: plan.free };
}

export function brokerOfferingViews(broker: ServiceBroker): ServiceOfferingView[] {
  return catalogOf(broker).services.map((s) => ({
    name: s.name,
    description: s.description,
    tags: [...s.tags],
    version: '',
    broker: broker.name,
    plans: s.plans.map((p) => brokerPlanView(s, p)),
  }));
}

export function brokerView(broker: ServiceBroker): ServiceBrokerView {
  return {
    id: broker.id,
    name: broker.name,
    url: broker.url,
    username: broker.username,
    offerings: catalogOf(broker).services.map((s) => s.name),
    created_at: broker.createdAt.toISOString(),
    updated_at: broker.updatedAt.toISOString(),
  };
}

/** The broker whose catalog has the offering `name`, with it. */
export function findBrokerOffering(brokers: ServiceBroker[], name: string): { broker: ServiceBroker; service: BrokerService } | undefined {
  for (const broker of brokers) {
    const service = catalogOf(broker).services.find((s) => s.name === name);
    if (service) return { broker, service };
  }
  return undefined;
}

/**
 * The names in `catalog` already taken by another offering of the marketplace (`taken`: name ->
 * whose it is), and names the catalog itself has twice. Empty when it can join.
 */
export function offeringClashes(catalog: BrokerCatalog, taken: Map<string, string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const s of catalog.services) {
    const owner = taken.get(s.name);
    if (owner) out.push(`${s.name} (${owner})`);
    if (seen.has(s.name)) out.push(`${s.name} (twice in this catalog)`);
    seen.add(s.name);
    const plans = new Set<string>();
    for (const p of s.plans) {
      if (plans.has(p.name)) out.push(`${s.name} plan ${p.name} (twice in this offering)`);
      plans.add(p.name);
    }
  }
  return out;
}
