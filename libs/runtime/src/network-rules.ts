/**
 * The iptables rules of one runtime's network, as data (pure: HostNetwork applies them): its
 * chains, the jumps into them from the built-in chains, a container's host-port mapping and its
 * egress chains.
 *
 * How a packet crosses FORWARD, whichever runtimes of the host made their chains first: at the top
 * every runtime's inbound chain (`-FWD`, by output bridge) and egress filter (`-EGF`, by input
 * bridge) only drop, reject or return; the one accept is at the END of FORWARD (`-EGR`). So no
 * runtime's accept can skip another's check: a packet from bridge B DNAT'ed to a container on
 * bridge A has passed B's egress filter and A's inbound chain before anything accepts it.
 */
import { ALWAYS_DENIED, ruleMatches, type ContainerEgress } from './egress';
import type { Rule, Table } from './iptables';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

/**
 * Names of the iptables chains one runtime owns (`<chain>-DNAT`, `-POST`, `-FWD`, `-EGR`, `-SVD`,
 * `-SVC`, and for the egress policy `-EGF` (FORWARD from the bridge), `-IN` (INPUT from the
 * bridge) with one `-E<n>`/`-I<n>` pair per container, n the last octet of its address).
 */
export interface ChainNames {
  prefix: string;
  dnat: string;
  post: string;
  forward: string;
  egress: string;
  egressFilter: string;
  input: string;
  /** Per service container: its address and port, jumping to serviceClients. */
  serviceDestinations: string;
  /** Who may open a connection to a service container (see serviceClientRules). */
  serviceClients: string;
  /** Rejects with a TCP reset (tcp; ICMP alone is rate-limited by the kernel) or port unreachable (the rest, and DNAT'ed tcp: see staticChains). */
  reject: string;
  /** The per-container chains of the container at `ip`. */
  container(ip: string): { forward: string; input: string };
}

export function chainNames(iptablesChain: string): ChainNames {
  if (!/^[A-Za-z0-9_-]{1,20}$/.test(iptablesChain)) {
    throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `iptablesChain "${iptablesChain}" must be 1-20 of [A-Za-z0-9_-]`);
  }
  return {
    prefix: iptablesChain,
    dnat: `${iptablesChain}-DNAT`,
    post: `${iptablesChain}-POST`,
    forward: `${iptablesChain}-FWD`,
    egress: `${iptablesChain}-EGR`,
    egressFilter: `${iptablesChain}-EGF`,
    input: `${iptablesChain}-IN`,
    serviceDestinations: `${iptablesChain}-SVD`,
    serviceClients: `${iptablesChain}-SVC`,
    reject: `${iptablesChain}-REJ`,
    container: (ip: string) => {
      const octet = ip.split('.')[3];
      return { forward: `${iptablesChain}-E${octet}`, input: `${iptablesChain}-I${octet}` };
    },
  };
}

/**
 * The packet mark bit every runtime of the host sets on what enters from its bridge (mangle
 * PREROUTING, before any FORWARD chain): "from a container of this host", which its own egress
 * filter checks before the end-of-FORWARD accept. The kernel clears marks when a packet crosses
 * into another network namespace, so a container cannot set it; one bit, matched and set under its
 * mask, leaves the others to whoever else marks packets on the host.
 */
export const FROM_CONTAINER_MARK = '0x10000000/0x10000000';

/** What the rules of one runtime depend on (its NetworkConfig and chain names). */
export interface NetworkRuleContext {
  bridge: string;
  /** The bridge's /24. */
  subnet: string;
  chains: ChainNames;
  hostAddresses?: string[];
  platformNetworks?: string[];
}

/** One container's host port: `hostPort` on the host DNAT'ed to `ip:containerPort`. */
export interface PortMapping {
  containerId: string;
  hostPort: number;
  ip: string;
  containerPort: number;
  /** A service container's (ContainerSpec.service). */
  service?: boolean;
}

/** A chain whose whole content the runtime rewrites at once (ensureHost). */
export interface ChainContent {
  table: Table;
  chain: string;
  specs: string[][];
}

const cidr = (network: string) => (network.includes('/') ? network : `${network}/32`);
const conntrack = (state: string) => ['-m', 'conntrack', '--ctstate', state];

/** Every chain the runtime creates. */
export function ownChains(chains: ChainNames): Array<{ table: Table; chain: string }> {
  return [
    { table: 'filter', chain: chains.reject },
    { table: 'nat', chain: chains.dnat },
    { table: 'nat', chain: chains.post },
    { table: 'filter', chain: chains.forward },
    { table: 'filter', chain: chains.egress },
    { table: 'filter', chain: chains.egressFilter },
    { table: 'filter', chain: chains.input },
    { table: 'filter', chain: chains.serviceDestinations },
    { table: 'filter', chain: chains.serviceClients },
  ];
}

/**
 * The chains that hold no per-container rule, whole: rewritten atomically at every ensureHost, so
 * an older layout left on the host (a FORWARD chain that accepted) is replaced, not appended to.
 */
export function staticChains(ctx: NetworkRuleContext): ChainContent[] {
  const br = ctx.bridge;
  const { reject, post, forward, egress, serviceClients, serviceDestinations } = ctx.chains;
  return [
    { table: 'filter', chain: reject, specs: [
      // A DNAT'ed packet that entered through a bridge port: the kernel sends its reset straight
      // back out of that port without undoing the DNAT (nf_send_reset), so the client would not
      // recognise it; an ICMP error is translated as any related packet is.
      ['-p', 'tcp', ...conntrack('DNAT'), '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'],
      ['-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
      ['-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'],
    ] },
    { table: 'nat', chain: post, specs: [
      // Host-originated connections to 127.0.0.1:hostPort leave through the bridge: give them a real source.
      ['-s', '127.0.0.0/8', '-o', br, '-j', 'MASQUERADE'],
      // Hairpin (a container to a host port DNAT'ed to another container of this bridge): the
      // reply must come back through the host (isolated bridge ports), so it goes to the gateway.
      ['-s', ctx.subnet, '-o', br, ...conntrack('DNAT'), '-j', 'MASQUERADE'],
      ['-s', ctx.subnet, '!', '-o', br, '-j', 'MASQUERADE'],
    ] },
    // Inbound checks, at the top of FORWARD: they drop or return, never accept (see the file comment).
    { table: 'filter', chain: forward, specs: [
      // Same bridge: only through a host port (hairpin), on to this bridge's egress filter, which
      // lets a container reach nothing DNAT'ed but the services it lists.
      ['-i', br, '-o', br, ...conntrack('DNAT'), '-j', 'RETURN'],
      // Containers never talk to each other directly (needs br_netfilter; isolated ports stop it at L2 too).
      ['-i', br, '-o', br, '-j', 'DROP'],
      ['-o', br, ...conntrack('RELATED,ESTABLISHED'), '-j', 'RETURN'],
      // From elsewhere, containers are reachable only through their host port (DNAT); service
      // containers only by the clients serviceClients admits.
      ['-o', br, ...conntrack('DNAT'), '-j', serviceDestinations],
      ['-o', br, ...conntrack('DNAT'), '-j', 'RETURN'],
      ['-o', br, '-j', 'DROP'],
    ] },
    { table: 'filter', chain: serviceClients, specs: serviceClientRules(ctx) },
    // The accept, jumped to from the END of FORWARD: what comes from the bridge passed its egress
    // filter, what goes to it passed the inbound checks above (of this runtime's chains).
    { table: 'filter', chain: egress, specs: [
      ['-i', br, '-j', 'ACCEPT'],
      ['-o', br, '-j', 'ACCEPT'],
    ] },
  ];
}

/**
 * Who may open a connection to a service container: this host's containers (marked on their way
 * in, and each checked by its own runtime's egress filter: only those that list the service pass),
 * the platform's own networks (other cells, controllers). The host itself never crosses FORWARD.
 * Anyone else (the outside, reaching a host address the port is DNAT'ed on) is rejected.
 */
function serviceClientRules(ctx: NetworkRuleContext): string[][] {
  return [
    ['-m', 'mark', '--mark', FROM_CONTAINER_MARK, '-j', 'RETURN'],
    ...(ctx.platformNetworks ?? []).map((network) => ['-s', cidr(network), '-j', 'RETURN']),
    ['-j', ctx.chains.reject],
  ];
}

/** The rules of the chains that also hold per-container jumps (at position 2, see egressJumps): ensured, never rewritten. */
export function baseRules(ctx: NetworkRuleContext): Rule[] {
  const br = ctx.bridge;
  const { egressFilter, input, reject } = ctx.chains;
  return [
    // Default deny from containers, at the top of FORWARD: replies pass; each container's own
    // chain (jumped to by its source address, see egressChains) returns what it may reach;
    // everything else is rejected. What returns goes on to the END-of-FORWARD accept.
    { table: 'filter', chain: egressFilter, spec: ['-i', br, ...conntrack('RELATED,ESTABLISHED'), '-j', 'RETURN'] },
    { table: 'filter', chain: egressFilter, spec: ['-i', br, '-j', reject] },
    // And to the host itself (any of its addresses, any port): only replies and allowances.
    { table: 'filter', chain: input, spec: [...conntrack('RELATED,ESTABLISHED'), '-j', 'ACCEPT'] },
    { table: 'filter', chain: input, spec: ['-j', reject] },
  ];
}

/** Jumps from the built-in chains into ours. */
export function jumpRules(ctx: NetworkRuleContext): Rule[] {
  const { dnat, post, forward, egress, egressFilter, input } = ctx.chains;
  const local = ['-m', 'addrtype', '--dst-type', 'LOCAL'];
  const br = ctx.bridge;
  return [
    { table: 'mangle', chain: 'PREROUTING', spec: ['-i', br, '-j', 'MARK', '--set-xmark', FROM_CONTAINER_MARK] },
    { table: 'filter', chain: 'INPUT', spec: ['-i', br, '-j', input], first: true },
    { table: 'filter', chain: 'FORWARD', spec: ['-i', br, '-j', egressFilter], first: true },
    { table: 'nat', chain: 'PREROUTING', spec: [...local, '-j', dnat] },
    { table: 'nat', chain: 'OUTPUT', spec: [...local, '-j', dnat] },
    { table: 'nat', chain: 'POSTROUTING', spec: ['-j', post] },
    { table: 'filter', chain: 'FORWARD', spec: ['-j', forward], first: true },
    { table: 'filter', chain: 'FORWARD', spec: ['-j', egress] },
  ];
}

/**
 * The local addresses a host port is DNAT'ed on (undefined: every local one). An app's: the
 * runtime's hostAddresses (unset: all). A service's too, except when those are all loopback (cells
 * of one machine, each a runtime with a bridge of its own): then every local address, so that a
 * sibling runtime's container reaches it at its own gateway (whoever is not a client is rejected
 * in serviceClients).
 */
export function dnatAddresses(ctx: NetworkRuleContext, service: boolean): Array<string | undefined> {
  const addresses = ctx.hostAddresses ?? [];
  if (addresses.length === 0) return [undefined];
  if (service && addresses.every((address) => address.startsWith('127.'))) return [undefined];
  return addresses;
}

/** The DNAT rules of a host port, and for a service container its entry in serviceDestinations. */
export function portRules(ctx: NetworkRuleContext, mapping: PortMapping): Rule[] {
  const { containerId, hostPort, ip, containerPort } = mapping;
  const comment = ['-m', 'comment', '--comment', containerId];
  const dnat = dnatAddresses(ctx, mapping.service ?? false).map((address): Rule => ({
    table: 'nat',
    chain: ctx.chains.dnat,
    spec: [
      ...(address ? ['-d', `${address}/32`] : []),
      '-p', 'tcp', '-m', 'tcp', '--dport', String(hostPort),
      ...comment,
      '-j', 'DNAT', '--to-destination', `${ip}:${containerPort}`,
    ],
  }));
  if (!mapping.service) return dnat;
  return [
    ...dnat,
    {
      table: 'filter',
      chain: ctx.chains.serviceDestinations,
      spec: ['-d', `${ip}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', String(containerPort), ...comment, '-j', ctx.chains.serviceClients],
    },
  ];
}

/** Jumps to the egress chains of the container at `ip`, below the first rule (replies) of -EGF and -IN. */
export function egressJumps(ctx: NetworkRuleContext, ip: string): Rule[] {
  const chains = ctx.chains.container(ip);
  const source = ['-s', `${ip}/32`];
  return [
    // -g: what its chain RETURNs goes back to FORWARD (to the end-of-FORWARD accept), not to our final REJECT.
    { table: 'filter', chain: ctx.chains.egressFilter, spec: ['-i', ctx.bridge, ...source, '-g', chains.forward], position: 2 },
    // -j: what its input chain does not accept comes back to our final REJECT.
    { table: 'filter', chain: ctx.chains.input, spec: [...source, '-j', chains.input], position: 2 },
  ];
}

/**
 * The iptables-restore input that (re)writes the egress chains of the container at `ip`: its
 * platform allowances, its service endpoints (matched on the original destination, before DNAT),
 * then REJECT for link-local and the platform networks, then REJECT for any other DNAT'ed
 * destination of this host (another container's host port: no rule opens one), then its rules,
 * then REJECT.
 */
export function egressChains(ctx: NetworkRuleContext, ip: string, egress: ContainerEgress): string {
  const chains = ctx.chains.container(ip);
  const reject = `-j ${ctx.chains.reject}`;
  const lines = ['*filter', `:${chains.forward} - [0:0]`, `:${chains.input} - [0:0]`, `-F ${chains.forward}`, `-F ${chains.input}`];
  for (const rule of egress.allow ?? []) {
    for (const match of ruleMatches(rule)) {
      lines.push(`-A ${chains.forward} ${match.join(' ')} -j RETURN`, `-A ${chains.input} ${match.join(' ')} -j ACCEPT`);
    }
  }
  for (const { host, port } of egress.services ?? []) {
    lines.push(`-A ${chains.forward} -p tcp -m conntrack --ctorigdst ${host}/32 --ctorigdstport ${port} -j RETURN`);
  }
  for (const network of [...ALWAYS_DENIED, ...(ctx.platformNetworks ?? [])]) {
    lines.push(`-A ${chains.forward} -d ${cidr(network)} ${reject}`);
  }
  lines.push(`-A ${chains.forward} -m conntrack --ctstate DNAT ${reject}`);
  for (const rule of egress.rules) {
    for (const match of ruleMatches(rule)) lines.push(`-A ${chains.forward} ${match.join(' ')} -j RETURN`);
  }
  lines.push(`-A ${chains.forward} ${reject}`, 'COMMIT', '');
  return lines.join('\n');
}

/** The iptables-restore input that rewrites `contents` whole (one atomic commit per table). */
export function rewriteScript(contents: ChainContent[]): string {
  const lines: string[] = [];
  for (const table of [...new Set(contents.map((content) => content.table))]) {
    lines.push(`*${table}`);
    for (const { chain } of contents.filter((content) => content.table === table)) lines.push(`:${chain} - [0:0]`, `-F ${chain}`);
    for (const { chain, specs } of contents.filter((content) => content.table === table)) {
      for (const spec of specs) lines.push(`-A ${chain} ${spec.join(' ')}`);
    }
    lines.push('COMMIT');
  }
  return [...lines, ''].join('\n');
}
