import { Inject, Injectable } from '@nestjs/common';
import { formatManifestIssue, parseManifest, type ManifestApp } from '@paas/manifest';
import type { Prisma } from '../../generated/prisma/client';
import type { Actor } from '../../auth/actor';
import type { AppWithSpace } from '../../apps/apps.repository';
import { DomainException, ErrorCode } from '../../platform/common/domain.exception';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../../platform/config/controller-config';
import { EventsService } from '../../audit/events.service';
import { HostOwnershipService } from '../../routing/host-ownership.service';
import { fqdnOf } from '../../routing/route-projection.service';
import { APP_PORT } from '../../routing/routes.schemas';
import { ServiceBinderService } from '../../services/service-binder.service';
import { ServiceBindingsRepository } from '../../services/service-bindings.repository';
import { ServiceInstancesRepository, type ServiceInstanceRecord } from '../../services/service-instances.repository';
import { isIdle } from '../../services/service-lifecycle';
import { ManifestReader } from './manifest-reader';
import { ManifestRepository } from './manifest.repository';
import { describeProcess, processChanges, randomHost, resolveRoute, type ResolvedRoute } from './manifest-plan';

/** A manifest checked against the platform before staging: what the push will apply. */
export interface ManifestPlan {
  /** manifest.yml (or manifest.yaml) */
  file: string;
  app: ManifestApp;
  /** Its routes, each on a known domain and free for the app's space. */
  routes: ResolvedRoute[];
  /** The service instances it lists, each of the app's space and created. */
  services: ServiceInstanceRecord[];
}

export interface ManifestCheck {
  /** The file found; undefined when the commit has no manifest. */
  file?: string;
  /** Set when there is a manifest and no error. */
  plan?: ManifestPlan;
  warnings: string[];
  errors: string[];
}

export interface ManifestApplied {
  /** The app's env after the merge (the manifest's values win). */
  env: Record<string, string>;
  /** What was applied, one line per kind, for the pusher. */
  lines: string[];
  /** Hosts whose routes changed: re-project them once the transaction committed. */
  hosts: string[];
  /** Bindings made (their logins exist): a caller whose transaction fails drops them (dropBindings). */
  bindings: Array<{ instance: ServiceInstanceRecord; username: string | null; bindingId: string }>;
}

/**
 * A pushed Cloud Foundry manifest.yml: `check` reads and validates it before staging (so an
 * invalid one rejects the push and changes nothing), `apply` writes it inside the push's release
 * transaction (so a failed build changes nothing either).
 */
@Injectable()
export class ManifestService {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly reader: ManifestReader,
    private readonly repo: ManifestRepository,
    private readonly events: EventsService,
    private readonly ownership: HostOwnershipService,
    private readonly serviceInstances: ServiceInstancesRepository,
    private readonly serviceBindings: ServiceBindingsRepository,
    private readonly binder: ServiceBinderService,
  ) {}

  /**
   * Reads the manifest of the pushed package and checks it: values, app entry, routes' domains and
   * owners (a host of another space is named to the pusher only if it may see that space).
   */
  async check(app: AppWithSpace, packageId: string, actor?: Actor): Promise<ManifestCheck> {
    const { file, warnings } = await this.reader.read(packageId);
    if (!file) return { warnings, errors: [] };
    if ('problem' in file) return { file: file.name, warnings, errors: [file.problem] };
    const parsed = parseManifest(file.text, app.name);
    warnings.push(...parsed.warnings.map(formatManifestIssue));
    if (!parsed.app) return { file: file.name, warnings, errors: parsed.errors.map(formatManifestIssue) };
    const errors: string[] = [];
    const routes: ResolvedRoute[] = [];
    if (parsed.app.routes.length > 0) {
      const candidates = parsed.app.routes.flatMap((r) => [r.fqdn, r.fqdn.slice(r.fqdn.indexOf('.') + 1)]);
      const domains = await this.repo.domainsFor([...new Set(candidates)], app.space.orgId);
      for (const route of parsed.app.routes) {
        const resolved = resolveRoute(route, domains, app.space.orgId);
        if (typeof resolved === 'string') {
          errors.push(`${route.key}: ${resolved}`);
          continue;
        }
        if (domains.find((d) => d.id === resolved.domainId)?.verifiedAt === null) {
          errors.push(`${route.key}: domain ${resolved.domainName} is not verified yet: verify the domain first (POST /v1/domains/${resolved.domainId}/verify)`);
          continue;
        }
        const owner = await this.repo.hostOwner(resolved.domainId, resolved.host);
        if (owner && owner !== app.spaceId) {
          errors.push(`${route.key}: ${await this.ownership.takenMessage(actor, fqdnOf(resolved.host, resolved.domainName), owner)}`);
          continue;
        }
        const existing = await this.repo.findRoute(resolved.domainId, resolved.host, resolved.path);
        if (existing && existing.spaceId !== app.spaceId) {
          errors.push(`${route.key}: the route ${resolved.url} is taken by another space: choose another host or path`);
          continue;
        }
        routes.push(resolved);
      }
    }
    const services: ServiceInstanceRecord[] = [];
    for (const service of parsed.app.services) {
      const [instance] = await this.serviceInstances.named(service.name, [app.spaceId]);
      if (!instance) {
        errors.push(`${service.key}: there is no service instance ${service.name} in space ${app.space.name}: create it first (POST /v1/service_instances) or remove it from services`);
      } else if (!isIdle(instance)) {
        errors.push(`${service.key}: service instance ${service.name} cannot be bound now (its ${instance.operationType} is ${instance.operationState}): push again once it is created and no operation is in progress`);
      } else {
        services.push(instance);
      }
    }
    if (errors.length) return { file: file.name, warnings, errors };
    return { file: file.name, plan: { file: file.name, app: parsed.app, routes, services }, warnings, errors };
  }

  /**
   * Applies the plan inside the push's transaction (the app row locked by the caller): process
   * settings (creating the types the Procfile does not have), env merged into the app's, routes
   * created and bound to web, random-route, no-route. Throws when a route was taken meanwhile.
   */
  async apply(tx: Prisma.TransactionClient, actor: Actor, app: AppWithSpace, plan: ManifestPlan, currentEnv: Record<string, string>): Promise<ManifestApplied> {
    const lines: string[] = [];
    const hosts = new Set<string>();
    const target = { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId };

    const existing = new Map((await this.repo.processes(app.id, tx)).map((p) => [p.type, p]));
    const described: string[] = [];
    for (const [type, settings] of Object.entries(plan.app.processes)) {
      const current = existing.get(type);
      await this.repo.saveProcess(tx, app.id, type, current?.id, processChanges(type, settings, current));
      described.push(describeProcess(type, current ? settings : { ...settings, instances: settings.instances ?? 1 }));
    }
    if (described.length) lines.push(described.join('; '));

    const env = { ...currentEnv, ...plan.app.env };
    const envNames = Object.keys(plan.app.env);
    if (envNames.some((name) => currentEnv[name] !== plan.app.env[name])) await this.repo.setEnv(tx, app.id, env);
    if (envNames.length) lines.push(`env ${envNames.sort().join(', ')}`);

    if (plan.app.noRoute) {
      const bound = await this.repo.webBindings(tx, app.id);
      await this.repo.deleteDestinations(tx, bound.map((b) => b.id));
      const urls = bound.map((b) => fqdnOf(b.route.host, b.route.domain.name) + b.route.path);
      for (const b of bound) {
        hosts.add(fqdnOf(b.route.host, b.route.domain.name));
        await this.events.record(actor, 'route-unmapped', target, { route_id: b.routeId, url: fqdnOf(b.route.host, b.route.domain.name) + b.route.path, destination_id: b.id, process_type: 'web', port: b.port, reason: 'no-route in the manifest' }, tx);
      }
      lines.push(urls.length ? `no-route: web unbound from ${urls.join(', ')}; the app has no route` : 'no-route: the app has no route');
    }

    for (const r of plan.routes) {
      const ensured = await this.repo.ensureRoute(tx, app.spaceId, r.domainId, r.host, r.path);
      if ('ownerSpaceId' in ensured) {
        const taken = await this.ownership.takenError(actor, fqdnOf(r.host, r.domainName), ensured.ownerSpaceId);
        throw new DomainException(taken.code, `${plan.file}: ${r.key}: ${taken.message}`, taken.details);
      }
      const { route, created } = ensured;
      if (route.spaceId !== app.spaceId) {
        throw new DomainException(ErrorCode.RouteTaken, `${plan.file}: ${r.key}: the route ${r.url} was just taken by another space: choose another host or path`);
      }
      if (created) await this.events.record(actor, 'route-created', { type: 'route', id: route.id, name: r.url, spaceId: app.spaceId }, { domain_id: r.domainId, by: plan.file }, tx);
      const binding = await this.repo.bindWeb(tx, route.id, app.id);
      if (binding.created) {
        await this.events.record(actor, 'route-mapped', target, { route_id: route.id, url: r.url, destination_id: binding.id, process_type: 'web', port: APP_PORT, weight: null }, tx);
      }
      hosts.add(fqdnOf(r.host, r.domainName));
    }
    if (plan.routes.length) lines.push(`routes ${plan.routes.map((r) => r.url).join(', ')}`);

    if (plan.app.randomRoute) {
      if (await this.repo.hasRoute(tx, app.id)) {
        lines.push('random-route: the app has a route already; none added');
      } else {
        const domain = await this.repo.findDomainByName(this.config.appsDomain, tx);
        for (let attempt = 0; domain && attempt < 5; attempt++) {
          const ensured = await this.repo.ensureRoute(tx, app.spaceId, domain.id, randomHost(app.name), '');
          // A host of another space (or an existing route): try another random host.
          if ('ownerSpaceId' in ensured || !ensured.created) continue;
          const { route } = ensured;
          const url = fqdnOf(route.host, domain.name);
          await this.events.record(actor, 'route-created', { type: 'route', id: route.id, name: url, spaceId: app.spaceId }, { domain_id: domain.id, by: plan.file }, tx);
          const binding = await this.repo.bindWeb(tx, route.id, app.id);
          await this.events.record(actor, 'route-mapped', target, { route_id: route.id, url, destination_id: binding.id, process_type: 'web', port: APP_PORT, weight: null }, tx);
          hosts.add(url);
          lines.push(`random-route ${url}`);
          break;
        }
      }
    }

    const bindings = await this.bindServices(tx, actor, app, plan);
    if (plan.services.length) lines.push(`services ${plan.services.map((i) => i.name).join(', ')}${bindings.length ? ` (bound ${bindings.map((b) => b.instance.name).join(', ')})` : ''}`);

    await this.events.record(actor, 'app-manifest-applied', target, {
      file: plan.file,
      process_types: Object.keys(plan.app.processes),
      env_names: envNames,
      routes: plan.routes.map((r) => r.url),
      random_route: plan.app.randomRoute,
      no_route: plan.app.noRoute,
      services: plan.services.map((i) => i.name),
    }, tx);
    return { env, lines, hosts: [...hosts], bindings };
  }

  /**
   * Binds the listed instances the app is not bound to yet (a login of its own each), in the
   * push's transaction; the release the push makes carries them. Listing an instance never
   * unbinds others (as on Cloud Foundry). On a failure the logins made so far are dropped.
   */
  private async bindServices(tx: Prisma.TransactionClient, actor: Actor, app: AppWithSpace, plan: ManifestPlan): Promise<ManifestApplied['bindings']> {
    const made: ManifestApplied['bindings'] = [];
    try {
      for (const instance of plan.services) {
        if (await this.serviceBindings.find(app.id, instance.id, tx)) continue;
        const current = await this.serviceInstances.find(instance.id, tx);
        if (!current) throw new DomainException(ErrorCode.NotFound, `${plan.file}: service instance ${instance.name} was deleted meanwhile: push again`);
        const binding = await this.binder.bind(tx, app.id, current);
        made.push({ instance: current, username: binding.username, bindingId: binding.id });
        const data = { service_instance: instance.name, service_instance_id: instance.id, binding_id: binding.id, by: plan.file };
        await this.events.record(actor, 'service-bound', { type: 'app', id: app.id, name: app.name, spaceId: app.spaceId }, data, tx);
      }
    } catch (error) {
      await this.dropBindings(made);
      throw error;
    }
    return made;
  }

  /** Drops the logins of bindings `apply` made, when the push's transaction did not commit. */
  async dropBindings(bindings: ManifestApplied['bindings']): Promise<void> {
    for (const b of bindings) await this.binder.dropQuietly(b.instance, b.username, b.bindingId);
  }
}
