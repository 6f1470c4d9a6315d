import { Inject, Injectable } from '@nestjs/common';
import type { ServiceInstance } from '../../generated/prisma/client';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { DomainException, ErrorCode } from '../../platform/common/domain.exception';
import type { Credentials } from '../provided-credentials';
import { BrokeredInstancesRepository, type BrokeredInstance } from './brokered-instances.repository';
import { catalogOf } from './broker-offerings';
import { idsOf } from './brokered-instances.service';
import { bind, BrokerCallError, unbind } from './osb-client';

/**
 * Bindings of brokered instances at their broker: bind (synchronous only) gives the credentials
 * the binding stores; unbind tells the broker the binding is gone (200 and 410 both fine).
 */
@Injectable()
export class BrokeredBindingsService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly records: BrokeredInstancesRepository,
  ) {}

  /** The broker's credentials for binding `bindingId` of `appId`; 502 (refused, no answer) or 422 (an answer we cannot use) naming the broker. */
  async bind(instance: ServiceInstance, bindingId: string, appId: string): Promise<Credentials> {
    const full = await this.brokered(instance);
    const service = catalogOf(full.broker).services.find((s) => s.id === full.brokerServiceId);
    const plan = service?.plans.find((p) => p.id === full.brokerPlanId);
    if (service && !(plan?.bindable ?? service.bindable)) {
      throw new DomainException(ErrorCode.Unprocessable, `the ${service.name} offering${plan ? ` (plan ${plan.name})` : ''} of broker ${full.broker.name} is not bindable: its instances cannot be bound to apps`);
    }
    try {
      return await bind(full.broker, {
        ...idsOf(full),
        orgId: full.space.orgId,
        orgName: full.space.org.name,
        spaceId: full.spaceId,
        spaceName: full.space.name,
        bindingId,
        appId,
      });
    } catch (error) {
      if (!(error instanceof BrokerCallError)) throw error;
      // A broker that made the binding and answered something we cannot use is told to forget it.
      if (error.kind === 'invalid') await this.unbindQuietly(instance, bindingId);
      const code = error.kind === 'invalid' ? ErrorCode.Unprocessable : ErrorCode.BrokerFailed;
      throw new DomainException(code, `${error.message}: the app was not bound`);
    }
  }

  /** Tells the broker the binding is gone; throws what the broker said. */
  async unbind(instance: ServiceInstance, bindingId: string): Promise<void> {
    const full = await this.brokered(instance);
    await unbind(full.broker, { ...idsOf(full), bindingId });
  }

  /** unbind, a failure logged (a binding whose recording failed). */
  async unbindQuietly(instance: ServiceInstance, bindingId: string): Promise<void> {
    await this.unbind(instance, bindingId).catch((error: Error) => this.logger.warn({ err: error, instance: instance.name, binding: bindingId }, 'broker-binding-not-removed'));
  }

  private async brokered(instance: ServiceInstance): Promise<BrokeredInstance> {
    const full = await this.records.find(instance.id);
    if (!full) throw new DomainException(ErrorCode.NotFound, `service instance ${instance.name} is gone, or not a brokered one`);
    return full;
  }
}
