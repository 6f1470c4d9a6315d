import { BUILTIN_OFFERINGS, type ServiceOffering, type ServiceOfferingView, type ServicePlan, type ServicePlanView } from '@paas/contracts';
import { DomainException, ErrorCode } from '../platform/common/domain.exception';

/** The built-in marketplace as the API shows it, and the lookups that name what exists when a name does not. */

export function planView(offering: ServiceOffering, plan: ServicePlan): ServicePlanView {
  return { name: plan.name, offering: offering.name, description: plan.description, memory_mb: plan.memoryMb, disk_mb: plan.diskMb, free: plan.free };
}

export function offeringView(offering: ServiceOffering): ServiceOfferingView {
  return {
    name: offering.name,
    description: offering.description,
    tags: [...offering.tags],
    version: offering.version,
    broker: 'built-in',
    plans: offering.plans.map((p) => planView(offering, p)),
  };
}

/** The offering named `name`, or 422 naming the offerings there are. */
export function offeringNamed(name: string): ServiceOffering {
  const offering = BUILTIN_OFFERINGS.find((o) => o.name === name);
  if (!offering) {
    throw new DomainException(
      ErrorCode.Unprocessable,
      `there is no service offering ${JSON.stringify(name)}: choose one of ${BUILTIN_OFFERINGS.map((o) => o.name).join(', ')} (GET /v1/service_offerings)`,
    );
  }
  return offering;
}

/** The plan `name` of the offering, or 422 naming its plans. */
export function planNamed(offering: ServiceOffering, name: string): ServicePlan {
  const plan = offering.plans.find((p) => p.name === name);
  if (!plan) {
    throw new DomainException(
      ErrorCode.Unprocessable,
      `the ${offering.name} offering has no plan ${JSON.stringify(name)}: choose one of ${offering.plans.map((p) => p.name).join(', ')} (GET /v1/service_plans?offering=${offering.name})`,
    );
  }
  return plan;
}
