import { Inject, Injectable } from '@nestjs/common';
import { BUILTIN_OFFERINGS, type ServiceBrokerView } from '@paas/contracts';
import type { ServiceBroker } from '../../generated/prisma/client';
import { LOGGER, type Logger } from '../../platform/config/config.module';
import { DomainException, ErrorCode, notFound } from '../../platform/common/domain.exception';
import { isUuid } from '../../platform/common/query-params';
import type { Actor } from '../../auth/actor';
import { AccessService } from '../../auth/access.service';
import { EventsService } from '../../audit/events.service';
import { brokerView, catalogOf, offeringClashes } from './broker-offerings';
import { BrokerCallError, fetchCatalog, normalizeBrokerUrl, type BrokerCatalog, type BrokerEndpoint } from './osb-client';
import { ServiceBrokersRepository } from './service-brokers.repository';

export interface BrokerRequest {
  name: string;
  url: string;
  username: string;
  password: string;
}

const LIST_HINT = 'list the brokers with GET /v1/service_brokers';

/**
 * Registering, listing, updating and removing service brokers: platform admins only. A
 * registration (and an update) fetches the broker's catalog first and stores nothing unless it
 * answers a valid one whose offering names are free in the marketplace (not built-in, not
 * another broker's). Removing one is refused while instances of it exist.
 */
@Injectable()
export class ServiceBrokersService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly brokers: ServiceBrokersRepository,
    private readonly access: AccessService,
    private readonly events: EventsService,
  ) {}

  async list(actor: Actor): Promise<ServiceBrokerView[]> {
    this.access.requirePlatformAdmin(actor, 'listing service brokers');
    return (await this.brokers.list()).map(brokerView);
  }

  async get(actor: Actor, idOrName: string): Promise<ServiceBrokerView> {
    this.access.requirePlatformAdmin(actor, 'reading a service broker');
    return brokerView(await this.resolve(idOrName));
  }

  async create(actor: Actor, input: BrokerRequest): Promise<ServiceBrokerView> {
    this.access.requirePlatformAdmin(actor, 'registering a service broker');
    const endpoint = { ...input, url: urlOrThrow(input.url) };
    if (await this.brokers.named(input.name)) throw nameTaken(input.name);
    const catalog = await this.catalogOrThrow(endpoint);
    await this.requireFreeNames(catalog, undefined);
    const created = await this.brokers.create({ ...endpoint, catalog });
    if (!created) throw nameTaken(input.name);
    await this.events.record(actor, 'service-broker-created', target(created), { url: created.url, offerings: catalog.services.map((s) => s.name) });
    this.logger.info({ broker: created.name, url: created.url }, 'service-broker-created');
    return brokerView(created);
  }

  /** Changes any of name, url, username, password; the catalog is fetched again with the result. */
  async update(actor: Actor, idOrName: string, input: Partial<BrokerRequest>): Promise<ServiceBrokerView> {
    this.access.requirePlatformAdmin(actor, 'updating a service broker');
    const broker = await this.resolve(idOrName);
    const endpoint = {
      name: input.name ?? broker.name,
      url: input.url !== undefined ? urlOrThrow(input.url) : broker.url,
      username: input.username ?? broker.username,
      password: input.password ?? broker.password,
    };
    const catalog = await this.catalogOrThrow(endpoint);
    await this.requireFreeNames(catalog, broker.id);
    const missing = (await this.brokers.plansInUse(broker.id)).filter(
      (i) => !catalog.services.some((s) => s.id === i.brokerServiceId && s.plans.some((p) => p.id === i.brokerPlanId)),
    );
    if (missing.length) {
      throw new DomainException(
        ErrorCode.Unprocessable,
        `the new catalog of broker ${broker.name} drops the offering or plan of service instances ${missing.map((i) => i.name).join(', ')}: delete them first, or keep their plans in the catalog`,
      );
    }
    const updated = await this.brokers.update(broker.id, { ...endpoint, catalog });
    if (!updated) throw nameTaken(endpoint.name);
    await this.events.record(actor, 'service-broker-updated', target(updated), { changed: Object.keys(input), offerings: catalog.services.map((s) => s.name) });
    return brokerView(updated);
  }

  async delete(actor: Actor, idOrName: string): Promise<void> {
    this.access.requirePlatformAdmin(actor, 'removing a service broker');
    const broker = await this.resolve(idOrName);
    const inUse = () =>
      this.brokers.instanceNames(broker.id).then((names) => {
        throw new DomainException(
          ErrorCode.ServiceInstanceInUse,
          `broker ${broker.name} still has service instances: ${names.join(', ') || '(being deleted)'}; delete them first (DELETE /v1/service_instances/NAME)`,
        );
      });
    if ((await this.brokers.instanceNames(broker.id)).length) return inUse();
    if (!(await this.brokers.delete(broker.id))) {
      if (await this.brokers.find(broker.id)) return inUse();
      return;
    }
    await this.events.record(actor, 'service-broker-deleted', target(broker), { url: broker.url });
  }

  async resolve(idOrName: string): Promise<ServiceBroker> {
    const found = (isUuid(idOrName) ? await this.brokers.find(idOrName) : null) ?? (await this.brokers.named(idOrName));
    if (!found) throw notFound('service broker', idOrName, LIST_HINT);
    return found;
  }

  private async catalogOrThrow(endpoint: BrokerEndpoint): Promise<BrokerCatalog> {
    try {
      return await fetchCatalog(endpoint);
    } catch (error) {
      throw brokerException(error, 'nothing was registered or changed; check the URL and login and try again');
    }
  }

  /** 422 naming each offering of `catalog` whose name is built-in or another broker's. */
  private async requireFreeNames(catalog: BrokerCatalog, ownId: string | undefined): Promise<void> {
    const taken = new Map<string, string>(BUILTIN_OFFERINGS.map((o) => [o.name, 'built-in']));
    for (const other of await this.brokers.list()) {
      if (other.id === ownId) continue;
      for (const s of catalogOf(other).services) taken.set(s.name, `broker ${other.name}`);
    }
    const clashes = offeringClashes(catalog, taken);
    if (clashes.length) {
      throw new DomainException(
        ErrorCode.Unprocessable,
        `the broker's catalog names offerings the marketplace has already: ${clashes.join(', ')}; offering names are unique across the marketplace: rename them in the broker's catalog (nothing was registered or changed)`,
      );
    }
  }
}

/** A failed broker call as the API answers it: 502 when it did not answer or refused, 422 when its answer is unusable. */
export function brokerException(error: unknown, then: string): DomainException {
  if (error instanceof BrokerCallError) {
    const code = error.kind === 'invalid' ? ErrorCode.Unprocessable : ErrorCode.BrokerFailed;
    return new DomainException(code, `${error.message}: ${then}`);
  }
  return error as DomainException;
}

function nameTaken(name: string): DomainException {
  return new DomainException(ErrorCode.NameTaken, `a service broker named ${name} is registered already: choose another name, or update that one (PATCH /v1/service_brokers/${name})`);
}

function urlOrThrow(url: string): string {
  try {
    return normalizeBrokerUrl(url);
  } catch (error) {
    throw new DomainException(ErrorCode.ValidationFailed, `url: ${(error as Error).message}`, [{ field: 'url', rule: (error as Error).message }]);
  }
}

function target(broker: ServiceBroker) {
  return { type: 'service_broker', id: broker.id, name: broker.name };
}
