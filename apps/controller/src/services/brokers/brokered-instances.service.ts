import { Inject, Injectable } from '@nestjs/common';
import type { ServiceInstanceView } from '@paas/contracts';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { DomainException, ErrorCode } from '../../platform/common/domain.exception';
import type { Actor } from '../../auth/actor';
import { EventsService, SYSTEM_ACTOR } from '../../audit/events.service';
import { ServiceInstancesRepository, type ServiceInstanceRecord } from '../service-instances.repository';
import { ServiceInstancesService, serviceTarget } from '../service-instances.service';
import { serviceInstanceView } from '../service-views';
import { BrokeredInstancesRepository, type BrokeredInstance } from './brokered-instances.repository';
import { MarketplaceService } from './marketplace.service';
import { BrokerCallError, deprovision, lastOperation, provision } from './osb-client';
import { brokerException } from './service-brokers.service';

/** How long an asynchronous provision or deprovision may take at the broker before it counts as failed. */
export const BROKER_OPERATION_TIMEOUT_MS = 30 * 60_000;
/** The `brokerOperation` of an asynchronous operation the broker gave no `operation` for. */
const NO_OPERATION = '';

/**
 * Instances an Open Service Broker provisions (docs/services.md, "Service brokers"):
 * - provision (POST /v1/service_instances with a broker's offering): recorded `create in
 *   progress`, then PUT to the broker: 200/201 succeeded (its dashboard_url kept), 202 in
 *   progress (its `operation` kept for polling), a refusal or no answer failed with what it said;
 * - step (the provisioning pass, on the leader): polls last_operation of an asynchronous create or
 *   delete until the broker says succeeded or failed, or BROKER_OPERATION_TIMEOUT_MS passed;
 * - deprovision (DELETE): 200/410 gone at once, 202 polled; a broker that refuses or does not
 *   answer leaves the instance as it was (502), except an instance whose create failed, which goes.
 */
@Injectable()
export class BrokeredInstancesService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly records: BrokeredInstancesRepository,
    private readonly instances: ServiceInstancesRepository,
    private readonly service: ServiceInstancesService,
    private readonly marketplace: MarketplaceService,
    private readonly events: EventsService,
  ) {}

  async provision(actor: Actor, spaceId: string, input: { name: string; offering: string; plan: string }): Promise<ServiceInstanceView> {
    const { broker, service, plan } = await this.marketplace.brokered(input.offering, input.plan);
    const created = await this.records.create({
      spaceId,
      name: input.name,
      offering: service.name,
      plan: plan.name,
      tags: [...service.tags],
      brokerId: broker.id,
      brokerServiceId: service.id,
      brokerPlanId: plan.id,
      description: `broker ${broker.name} is provisioning it`,
    });
    if (!created) throw new DomainException(ErrorCode.NameTaken, `this space has a service instance named ${input.name} already: choose another name`);
    await this.events.record(actor, 'service-instance-created', serviceTarget(created), { offering: service.name, plan: plan.name, broker: broker.name });
    const ids = { instanceId: created.id, instanceName: created.name, serviceId: service.id, planId: plan.id };
    try {
      const outcome = await provision(broker, { ...ids, orgId: created.space.orgId, orgName: created.space.org.name, spaceId, spaceName: created.space.name });
      if (outcome.async) {
        await this.records.finish(created.id, 'create', {
          state: 'in progress',
          description: `broker ${broker.name} is provisioning it (asynchronously)`,
          operation: outcome.operation ?? NO_OPERATION,
          dashboardUrl: outcome.dashboardUrl,
        });
      } else {
        await this.succeed(created, broker.name, outcome.dashboardUrl);
      }
    } catch (error) {
      if (!(error instanceof BrokerCallError)) throw error;
      await this.fail(created, 'create', error.message);
    }
    this.logger.info({ instance: created.name, offering: service.name, broker: broker.name }, 'service-instance-provision-requested');
    return this.service.viewOf(created.id);
  }

  /** One pass over a brokered instance whose operation is in progress. */
  async step(instance: ServiceInstanceRecord, now: number): Promise<void> {
    const type = instance.operationType === 'delete' ? 'delete' : 'create';
    const full = await this.records.find(instance.id);
    if (!full) return;
    const waited = now - instance.operationUpdatedAt.getTime();
    if (full.brokerOperation === null) {
      // The API is making its synchronous call now, or its process ended during it.
      if (waited > BROKER_OPERATION_TIMEOUT_MS) await this.fail(instance, type, `the controller lost track of the broker's answer to this ${type}: delete the instance (and create it again)`);
      return;
    }
    if (waited > BROKER_OPERATION_TIMEOUT_MS) {
      return this.fail(instance, type, `broker ${full.broker.name} did not finish the ${type} within ${BROKER_OPERATION_TIMEOUT_MS / 60_000} minutes`);
    }
    let answer: Awaited<ReturnType<typeof lastOperation>>;
    try {
      answer = await lastOperation(full.broker, idsOf(full));
    } catch (error) {
      if (!(error instanceof BrokerCallError)) throw error;
      await this.instances.describe(instance.id, `${error.message} (asking again)`);
      return;
    }
    if (type === 'delete') {
      if (answer === 'gone' || answer.state === 'succeeded') return this.removeRecord(instance, `deprovisioned by broker ${full.broker.name}`);
      if (answer.state === 'failed') return this.fail(instance, 'delete', `broker ${full.broker.name} could not deprovision it: ${answer.description ?? 'no reason given'}; delete it again`);
      return this.instances.describe(instance.id, answer.description ?? `broker ${full.broker.name} is deprovisioning it`);
    }
    if (answer === 'gone') return this.fail(instance, 'create', `broker ${full.broker.name} says the instance is gone (410)`);
    if (answer.state === 'succeeded') return this.succeed(instance, full.broker.name, undefined, answer.description);
    if (answer.state === 'failed') return this.fail(instance, 'create', `broker ${full.broker.name} could not provision it: ${answer.description ?? 'no reason given'}`);
    await this.instances.describe(instance.id, answer.description ?? `broker ${full.broker.name} is provisioning it (asynchronously)`);
  }

  /** DELETE /v1/service_instances/:instance of a brokered one (no bindings: the caller checked). */
  async deprovision(actor: Actor, instance: ServiceInstanceRecord): Promise<ServiceInstanceView> {
    if (instance.operationState === 'in progress') {
      if (instance.operationType === 'delete') return this.service.view(instance);
      throw new DomainException(
        ErrorCode.ServiceInstanceNotReady,
        `service instance ${instance.name} is being ${instance.operationType}d by its broker: delete it once GET /v1/service_instances/${instance.name} says the operation ended`,
      );
    }
    const full = await this.records.find(instance.id);
    if (!full) return this.service.viewOf(instance.id);
    const createFailed = instance.operationType === 'create' && instance.operationState === 'failed';
    let outcome: Awaited<ReturnType<typeof deprovision>>;
    try {
      outcome = await deprovision(full.broker, idsOf(full));
    } catch (error) {
      if (!createFailed) throw brokerException(error, 'nothing was changed; try again (or ask a platform admin to check the broker)');
      this.logger.warn({ err: error, instance: instance.name }, 'failed-brokered-instance-removed-without-deprovision');
      return this.removeNow(actor, instance, `its create had failed; the broker did not deprovision it (${(error as Error).message})`);
    }
    if (!outcome.async) return this.removeNow(actor, instance, `deprovisioned by broker ${full.broker.name}`);
    await this.records.beginDelete(instance.id, `broker ${full.broker.name} is deprovisioning it`, outcome.operation ?? NO_OPERATION);
    await this.events.record(actor, 'service-instance-delete-requested', serviceTarget(instance), { broker: full.broker.name });
    return this.service.viewOf(instance.id);
  }

  private async succeed(instance: ServiceInstanceRecord, broker: string, dashboardUrl?: string | null, description: string | null = null): Promise<void> {
    if (await this.records.finish(instance.id, 'create', { state: 'succeeded', description, operation: null, ...(dashboardUrl !== undefined ? { dashboardUrl } : {}) })) {
      await this.events.record(SYSTEM_ACTOR, 'service-instance-create-succeeded', serviceTarget(instance), { broker });
      this.logger.info({ instance: instance.name, broker }, 'service-instance-ready');
    }
  }

  private async fail(instance: ServiceInstanceRecord, type: 'create' | 'delete', description: string): Promise<void> {
    if (await this.records.finish(instance.id, type, { state: 'failed', description, operation: null })) {
      await this.events.record(SYSTEM_ACTOR, `service-instance-${type}-failed`, serviceTarget(instance), { reason: description });
      this.logger.warn({ instance: instance.name, reason: description }, `service-instance-${type}-failed`);
    }
  }

  private async removeRecord(instance: ServiceInstanceRecord, reason: string): Promise<void> {
    if (await this.instances.delete(instance.id)) await this.events.record(SYSTEM_ACTOR, 'service-instance-deleted', serviceTarget(instance), { reason });
  }

  private async removeNow(actor: Actor, instance: ServiceInstanceRecord, why: string): Promise<ServiceInstanceView> {
    if (!(await this.instances.delete(instance.id))) return this.service.viewOf(instance.id);
    await this.events.record(actor, 'service-instance-deleted', serviceTarget(instance), { reason: why });
    const now = new Date();
    return serviceInstanceView(
      { ...instance, operationType: 'delete', operationState: 'succeeded', operationDescription: why, operationUpdatedAt: now, updatedAt: now },
      { status: null, status_reason: null },
    );
  }
}

/** The OSB ids of a brokered instance and the operation to poll. */
export function idsOf(instance: BrokeredInstance): { instanceId: string; instanceName: string; serviceId: string; planId: string; operation: string | null } {
  return {
    instanceId: instance.id,
    instanceName: instance.name,
    serviceId: instance.brokerServiceId ?? '',
    planId: instance.brokerPlanId ?? '',
    operation: instance.brokerOperation || null,
  };
}
