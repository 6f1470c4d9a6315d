import { RuntimeError, RuntimeErrorCode } from './runtime-error';

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
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as a 32-bit number, or undefined when it is not a dotted IPv4 address. */
export function ipv4ToNumber(address: string): number | undefined {
  const match = IPV4.exec(address);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((o) => o > 255) || match.slice(1).some((o) => o.length > 1 && o.startsWith('0'))) return undefined;
  return octets.reduce((n, o) => n * 256 + o, 0);
}

/** The problem with a destination (address, CIDR or range), or undefined when it is valid. */
export function destinationProblem(destination: string): string | undefined {
  const range = destination.split('-');
  if (range.length === 2) {
    const [low, high] = range.map((a) => ipv4ToNumber(a.trim()));
    if (low === undefined || high === undefined) return `"${destination}" is not a range of two IPv4 addresses like 10.0.0.1-10.0.0.9`;
    if (low > high) return `range "${destination}" ends before it starts`;
    return undefined;
  }
  const [address, bits, ...rest] = destination.split('/');
  if (rest.length > 0 || ipv4ToNumber(address ?? '') === undefined) {
    return `"${destination}" is not an IPv4 address, CIDR (10.0.0.0/8) or range (10.0.0.1-10.0.0.9)`;
  }
  if (bits !== undefined && !(/^\d{1,2}$/.test(bits) && Number(bits) <= 32)) return `"${destination}" has a prefix length outside 0-32`;
  return undefined;
}

/** The problem with a ports string ("443", "80,443", "8000-9000"), or undefined when it is valid. */
export function portsProblem(ports: string): string | undefined {
  const parts = ports.split(',').map((p) => p.trim());
  if (parts.length > 32) return `ports "${ports}" lists more than 32 entries: use a range`;
  for (const part of parts) {
    const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const low = Number(match?.[1]);
    const high = match?.[2] === undefined ? low : Number(match[2]);
    if (!match || low < 1 || high > 65535 || low > high) {
      return `ports "${ports}": "${part}" is not a port (1-65535) or a range like 8000-9000`;
    }
  }
  return undefined;
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
