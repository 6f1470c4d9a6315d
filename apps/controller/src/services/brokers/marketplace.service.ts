import { Injectable } from '@nestjs/common';
import { BUILTIN_OFFERINGS, type ServiceOfferingView, type ServicePlanView } from '@paas/contracts';
import type { ServiceBroker } from '../../generated/prisma/client';
import { DomainException, ErrorCode } from '../../platform/common/domain.exception';
import { offeringView } from '../offerings';
import { brokerOfferingViews, findBrokerOffering } from './broker-offerings';
import type { BrokerPlan, BrokerService } from './osb-client';
import { ServiceBrokersRepository } from './service-brokers.repository';

/** An offering of a broker's catalog and the plan asked for. */
export interface BrokeredChoice {
  broker: ServiceBroker;
  service: BrokerService;
  plan: BrokerPlan;
}

/**
 * The whole marketplace: the built-in offerings, then those of every registered broker's last
 * fetched catalog (`broker` set to the broker's name), and the lookup of a broker's offering and
 * plan by name. Offering names are unique across it (ServiceBrokersService refuses a clash).
 */
@Injectable()
export class MarketplaceService {
  constructor(private readonly brokers: ServiceBrokersRepository) {}

  async offerings(): Promise<ServiceOfferingView[]> {
    return [...BUILTIN_OFFERINGS.map(offeringView), ...(await this.brokers.list()).flatMap(brokerOfferingViews)];
  }

  /** The plans of every offering, or of the one named (422 naming the offerings when there is none). */
  async plans(offering?: string): Promise<ServicePlanView[]> {
    const all = await this.offerings();
    if (offering === undefined) return all.flatMap((o) => o.plans);
    const found = all.find((o) => o.name === offering);
    if (!found) throw noOffering(offering, all);
    return found.plans;
  }

  /** The broker's offering `offering` and its plan `plan`; 422 naming what exists when either is missing or not bindable. */
  async brokered(offering: string, plan: string): Promise<BrokeredChoice> {
    const found = findBrokerOffering(await this.brokers.list(), offering);
    if (!found) throw noOffering(offering, await this.offerings());
    const chosen = found.service.plans.find((p) => p.name === plan);
    if (!chosen) {
      throw new DomainException(
        ErrorCode.Unprocessable,
        `the ${offering} offering (broker ${found.broker.name}) has no plan ${JSON.stringify(plan)}: choose one of ${found.service.plans.map((p) => p.name).join(', ')} (GET /v1/service_plans?offering=${offering})`,
      );
    }
    return { ...found, plan: chosen };
  }
}

function noOffering(name: string, all: ServiceOfferingView[]): DomainException {
  return new DomainException(
    ErrorCode.Unprocessable,
    `there is no service offering ${JSON.stringify(name)}: choose one of ${all.map((o) => o.name).join(', ')} (GET /v1/service_offerings)`,
  );
}
