import { destinationProblem, portsProblem } from '@paas/contracts';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

export { destinationProblem, portsProblem };

/**
 * One egress rule of a container, as an application security group states it: where
 * (`destination`: an address `10.0.0.1`, a CIDR `10.0.0.0/8` or a range `10.0.0.1-10.0.0.9`), which
 * protocol, and for tcp/udp which ports (`"443"`, `"80,443"`, `"8000-9000"`; unset: all). For icmp,
 * `type`/`code` narrow it (unset: every type). Validated by `validateEgressRule` before use.
 */
export interface EgressRule {
  destination: string;
  protocol: 'tcp' | 'udp' | 'icmp' | 'all';
  ports?: string;
  type?: number;
  code?: number;
}

/**
 * What one container may reach besides the replies to connections made to it.
 * - `allow`: platform allowances (the cell's npm registry for staging, the router's public port),
 *   the only destinations a container reaches on its own host, and reached even inside the
 *   platform networks.
 * - `rules`: the security groups' rules, for destinations off the host and outside the runtime's
 *   `platformNetworks` and link-local. Everything else is rejected.
 */
export interface ContainerEgress {
  allow?: EgressRule[];
  rules: EgressRule[];
  /**
   * Service endpoints (a host and its host port, DNAT'ed to a service container on that host)
   * this container may reach: matched by the original destination, so they hold whether the
   * service runs on this host (DNAT'ed before the filter sees it) or on another. A DNAT'ed
   * destination of this host that is not listed here is rejected, whatever `rules` allow.
   */
  services?: Array<{ host: string; port: number }>;
}

/** Throws InvalidSpec naming the first problem of the rule. */
export function validateEgressRule(rule: EgressRule, where: string): void {
  const fail = (message: string): never => {
    throw new RuntimeError(RuntimeErrorCode.InvalidSpec, `${where}: ${message}`);
  };
  if (!['tcp', 'udp', 'icmp', 'all'].includes(rule.protocol)) fail(`protocol "${rule.protocol}" must be tcp, udp, icmp or all`);
  const destination = destinationProblem(rule.destination);
  if (destination) fail(destination);
  if (rule.ports !== undefined) {
    if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') fail('ports apply to tcp and udp only');
    const ports = portsProblem(rule.ports);
    if (ports) fail(ports);
  }
  for (const [name, value] of [['type', rule.type], ['code', rule.code]] as const) {
    if (value === undefined) continue;
    if (rule.protocol !== 'icmp') fail(`${name} applies to icmp only`);
    if (!(Number.isInteger(value) && value >= 0 && value <= 255)) fail(`icmp ${name} must be 0-255`);
  }
  if (rule.code !== undefined && rule.type === undefined) fail('an icmp code needs a type');
}

/** iptables match arguments for one rule: one argument list per port entry. */
export function ruleMatches(rule: EgressRule): string[][] {
  const destination = rule.destination.includes('-')
    ? ['-m', 'iprange', '--dst-range', rule.destination.replace(/\s/g, '')]
    : ['-d', rule.destination.includes('/') ? rule.destination : `${rule.destination}/32`];
  if (rule.protocol === 'all') return [destination];
  if (rule.protocol === 'icmp') {
    const type = rule.type === undefined ? [] : ['--icmp-type', rule.code === undefined ? String(rule.type) : `${rule.type}/${rule.code}`];
    return [[...destination, '-p', 'icmp', ...type]];
  }
  const proto = ['-p', rule.protocol, '-m', rule.protocol];
  if (rule.ports === undefined) return [[...destination, ...proto]];
  return rule.ports.split(',').map((part) => [...destination, ...proto, '--dport', part.trim().replace('-', ':')]);
}

/** Addresses no container reaches whatever its rules say: link-local, where cloud metadata services answer. */
export const ALWAYS_DENIED = ['169.254.0.0/16'];
