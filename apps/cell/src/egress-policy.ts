import { isIP } from 'node:net';
import type { BoundService, EgressRules } from '@paas/contracts';
import type { ContainerEgress, EgressRule } from '@paas/runtime';
import { isLoopback, servicesSeenFromContainers } from './bound-services';

/** What the cell itself lets its containers reach, besides their security groups' rules. */
export interface EgressPolicyConfig {
  /** The gateway of the cell's bridge: where containers reach services of the cell's own host (a loopback address given without it opens nothing). */
  gateway?: string;
  /** CELL_NPM_REGISTRY: staging containers may reach it when its host is an IP address. */
  npmRegistry?: string;
  /** CELL_ROUTER_ADDRESS (`ip:port`): every container may reach the router's public port there. */
  routerAddress?: { host: string; port: number };
}

/**
 * Turns a job's security-group rules into a container's egress, adding the platform allowances:
 * the router's public port (when the cell was told where it is) for every container, and the
 * cell's npm registry for staging containers. A service of the cell's own host named by a loopback
 * address is reached by containers at the bridge gateway (their 127.0.0.1 is their own); so are
 * the bound services' servers (`boundServices`), whose endpoints the running containers may reach.
 * Pure; built once per cell.
 */
export class EgressPolicy {
  private readonly router: EgressRule[];
  private readonly registry: EgressRule[];
  private dns: EgressRule[] = [];

  constructor(private readonly config: EgressPolicyConfig) {
    const onHost = (host: string) => (isLoopback(host) ? config.gateway : host);
    const router = config.routerAddress && onHost(config.routerAddress.host);
    this.router = router ? [{ destination: router, protocol: 'tcp', ports: String(config.routerAddress!.port) }] : [];
    this.registry = [];
    if (config.npmRegistry) {
      const url = new URL(config.npmRegistry);
      const host = url.hostname;
      // A registry named by a DNS name is reached through the staging security groups (public_networks by default).
      if (isIP(host) === 4 || isLoopback(host)) {
        const port = url.port || (url.protocol === 'https:' ? '443' : '80');
        const destination = onHost(host);
        if (destination) this.registry.push({ destination, protocol: 'tcp', ports: port });
      }
    }
  }

  /**
   * The resolvers in the containers' resolv.conf (see stackNameservers): every container may ask
   * them on port 53, even on the host or link-local. Set once at cell start-up, before any container.
   */
  setNameservers(servers: string[]): void {
    this.dns = servers.flatMap((destination) => (['udp', 'tcp'] as const).map((protocol) => ({ destination, protocol, ports: '53' })));
  }

  /** The services bound to an app as its containers reach them (see servicesSeenFromContainers): give these to `running` and the env. */
  boundServices(services: readonly BoundService[] | undefined): BoundService[] {
    return servicesSeenFromContainers(services, this.config.gateway);
  }

  /** Instances and tasks: the running rules of their space, and the endpoints of their bound services (from `boundServices`). */
  running(rules: EgressRules | undefined, services: readonly BoundService[] = []): ContainerEgress {
    const endpoints = services.flatMap((s) => (s.endpoint ? [{ host: s.endpoint.host, port: s.endpoint.port }] : []));
    return { allow: [...this.dns, ...this.router], rules: toRuntime(rules), ...(endpoints.length ? { services: endpoints } : {}) };
  }

  /** Builds: the staging rules of their space, plus the npm registry. */
  staging(rules: EgressRules | undefined): ContainerEgress {
    return { allow: [...this.dns, ...this.router, ...this.registry], rules: toRuntime(rules) };
  }
}

function toRuntime(rules: EgressRules | undefined): EgressRule[] {
  return (rules ?? []).map(({ destination, protocol, ports, type, code }) => ({
    destination,
    protocol,
    ...(ports !== undefined ? { ports } : {}),
    ...(type !== undefined ? { type } : {}),
    ...(code !== undefined ? { code } : {}),
  }));
}
