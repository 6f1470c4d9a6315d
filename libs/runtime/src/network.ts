import { createHash } from 'node:crypto';
import { readFile, writeFile, access } from 'node:fs/promises';
import { exec, execSucceeds } from './exec';
import { ipv4ToNumber } from '@paas/contracts';
import { chainExists, ensureChain, ensureRule, iptables, removeChain, removeRule } from './iptables';
import { destinationProblem, type ContainerEgress } from './egress';
import {
  baseRules,
  chainNames,
  egressChains,
  egressJumps,
  jumpRules,
  ownChains,
  portRules,
  rewriteScript,
  staticChains,
  type ChainNames,
  type NetworkRuleContext,
  type PortMapping,
} from './network-rules';
import { CommandFailedError, RuntimeError, RuntimeErrorCode } from './runtime-error';

/** The network part of the runtime config. */
export interface NetworkConfig {
  /** Linux bridge of this runtime, at most 15 characters. */
  bridge: string;
  /** A /24 such as "10.213.1.0/24"; .1 is the gateway on the bridge, .2-.254 go to containers. */
  subnet: string;
  hostPortRange: [number, number];
  /**
   * When set, host ports are DNAT'ed only on these local addresses; otherwise on every local one.
   * A service container's host port is DNAT'ed on every local address when these are all loopback
   * (cells of one machine: see dnatAddresses).
   */
  hostAddresses?: string[];
  /**
   * CIDRs (or addresses) of the platform's own hosts and networks (the API, Redis, Postgres, other
   * cells, routers' admin ports) that no container reaches whatever its security groups allow;
   * only a platform allowance (ContainerEgress.allow) gets through. Link-local is always denied.
   */
  platformNetworks?: string[];
}

export { chainNames, type ChainNames, type PortMapping } from './network-rules';

export interface Subnet {
  cidr: string;
  /** First three octets, e.g. "10.213.1". */
  prefix: string;
  gateway: string;
}

export function parseSubnet(cidr: string): Subnet {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(cidr);
  if (!match || match.slice(1, 4).some((octet) => Number(octet) > 255)) {
    throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `subnet "${cidr}" must be a /24 like 10.213.1.0/24`);
  }
  const prefix = match.slice(1, 4).join('.');
  return { cidr, prefix, gateway: `${prefix}.1` };
}

/**
 * The MAC of the interface holding `ip` on a runtime's bridge (a container's eth0, or the bridge
 * itself for the gateway): locally administered unicast 02:50 followed by the four octets, so an
 * address always comes with the same MAC. A container that reuses a destroyed one's address is
 * then reached at once by whoever still holds a neighbour entry for it (the host, and every other
 * holder: nothing needs to flush or wait for the entry to expire). Pure; `ip` is a dotted quad.
 */
export function macForIp(ip: string): string {
  const octets = ip.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `"${ip}" is not an IPv4 address`);
  }
  return ['02', '50', ...octets.map((o) => o.toString(16).padStart(2, '0'))].join(':');
}

/** Host-side name of a container's veth: short, stable, derived from the container id. */
export function vethName(containerId: string): string {
  return `pv${createHash('sha256').update(containerId).digest('hex').slice(0, 12)}`;
}

const NETNS_DIR = '/var/run/netns';

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

async function linkExists(name: string): Promise<boolean> {
  return execSucceeds('ip', ['link', 'show', 'dev', name]);
}

async function writeSysctl(path: string, value: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current?.trim() === value) return;
  await writeFile(path, value);
}

/**
 * The host side of one runtime's network: its bridge, its iptables chains and the per-container
 * netns/veth/DNAT pieces. Every method is idempotent; `ensureHost` must run before `attach`.
 */
export class HostNetwork {
  readonly subnet: Subnet;
  readonly chains: ChainNames;
  private readonly rules: NetworkRuleContext;

  constructor(
    private readonly config: NetworkConfig,
    iptablesChain: string,
  ) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(config.bridge)) {
      throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `bridge "${config.bridge}" must be 1-15 of [A-Za-z0-9_.-]`);
    }
    const [low, high] = config.hostPortRange;
    if (!(Number.isInteger(low) && Number.isInteger(high) && low >= 1 && high <= 65535 && low <= high)) {
      throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `hostPortRange ${low}-${high} is not a valid port range`);
    }
    this.subnet = parseSubnet(config.subnet);
    this.chains = chainNames(iptablesChain);
    for (const network of config.platformNetworks ?? []) {
      const problem = destinationProblem(network);
      if (problem || network.includes('-')) {
        throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `platformNetworks: ${problem ?? `"${network}" must be an address or a CIDR`}`);
      }
    }
    for (const address of config.hostAddresses ?? []) {
      if (ipv4ToNumber(address) === undefined) throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `hostAddresses: "${address}" is not an IPv4 address`);
    }
    this.rules = {
      bridge: config.bridge,
      subnet: this.subnet.cidr,
      chains: this.chains,
      hostAddresses: config.hostAddresses,
      platformNetworks: config.platformNetworks,
    };
  }

  /** Creates the bridge, sysctls and chains (with their jumps from the built-in chains). */
  async ensureHost(): Promise<void> {
    const bridge = this.config.bridge;
    if (!(await linkExists(bridge))) {
      try {
        await exec('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
      } catch (error) {
        if (!(await linkExists(bridge))) throw error; // lost a race with another caller: fine
      }
    }
    const { stdout } = await exec('ip', ['-o', '-4', 'addr', 'show', 'dev', bridge]);
    if (!stdout.includes(` ${this.subnet.gateway}/24 `)) {
      await exec('ip', ['addr', 'add', `${this.subnet.gateway}/24`, 'dev', bridge]);
    }
    // A bridge without a MAC of its own takes its lowest port's, so it changed whenever a
    // container came or went (and the host flushed its neighbour entries each time): a set MAC stays.
    const bridgeMac = macForIp(this.subnet.gateway);
    const currentMac = await readFile(`/sys/class/net/${bridge}/address`, 'utf8').catch(() => '');
    if (currentMac.trim() !== bridgeMac) await exec('ip', ['link', 'set', 'dev', bridge, 'address', bridgeMac]);
    await exec('ip', ['link', 'set', 'dev', bridge, 'up']);
    await writeSysctl('/proc/sys/net/ipv4/ip_forward', '1');
    await writeSysctl(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, '1');
    // No IPv6 on the bridge: containers would otherwise reach the host's [::] listeners at its
    // link-local address, past every IPv4 rule below.
    await disableIpv6(bridge);
    // Bridged (container-to-container) frames only reach iptables FORWARD with br_netfilter.
    const brNf = '/proc/sys/net/bridge/bridge-nf-call-iptables';
    if (await access(brNf).then(() => true, () => false)) await writeSysctl(brNf, '1');

    for (const { table, chain } of ownChains(this.chains)) await ensureChain(table, chain);
    await exec('iptables-restore', ['-w', '5', '--noflush'], { input: rewriteScript(staticChains(this.rules)) });
    for (const rule of baseRules(this.rules)) await ensureRule(rule);
    for (const rule of jumpRules(this.rules)) await ensureRule(rule);
  }

  /** True when br_netfilter is active, so the FORWARD rules also see bridged traffic. */
  async bridgeIsolationActive(): Promise<boolean> {
    const value = await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').catch(() => '0');
    return value.trim() === '1';
  }

  /**
   * Creates the netns and veth of one container and configures eth0 with `ip`. A service
   * container's port is not isolated (`service`): a container of this bridge reaches it through
   * its host port, which br_netfilter delivers at L2 (a DNAT back onto the bridge it came from is
   * bridged, not routed), so it needs br_netfilter, whose FORWARD rules drop anything else between
   * them. InvalidConfig when br_netfilter is off.
   */
  async attach(netns: string, ip: string, options: { service: boolean } = { service: false }): Promise<void> {
    if (options.service && !(await this.bridgeIsolationActive())) {
      throw new RuntimeError(
        RuntimeErrorCode.InvalidConfig,
        'a service container needs br_netfilter (net.bridge.bridge-nf-call-iptables = 1): without it its bridge port would let every container of the bridge past the egress policy; run `modprobe br_netfilter`',
      );
    }
    const veth = vethName(netns);
    if (!(await listNetns()).includes(netns)) await exec('ip', ['netns', 'add', netns]);
    if (await linkExists(veth)) await exec('ip', ['link', 'del', 'dev', veth]);
    await exec('ip', ['link', 'add', 'name', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await exec('ip', ['link', 'set', 'dev', veth, 'master', this.config.bridge]);
    // Isolated bridge ports forward only to the bridge itself (the host) and to non-isolated
    // ports (service containers'), never to each other: containers cannot reach one another at L2
    // even without br_netfilter.
    await exec('ip', ['link', 'set', 'dev', veth, 'type', 'bridge_slave', 'isolated', options.service ? 'off' : 'on']);
    await disableIpv6(veth);
    await exec('ip', ['link', 'set', 'dev', veth, 'up']);
    const inNs = (args: string[]) => exec('ip', ['-n', netns, ...args]);
    // Same address, same MAC (see macForIp): a reused address is reachable at once.
    await inNs(['link', 'set', 'dev', 'eth0', 'address', macForIp(ip)]);
    await inNs(['addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await inNs(['link', 'set', 'dev', 'eth0', 'up']);
    await inNs(['link', 'set', 'dev', 'lo', 'up']);
    await inNs(['route', 'add', 'default', 'via', this.subnet.gateway]);
    // The gateway's MAC is fixed (macForIp): a permanent entry, so that no neighbour on the bridge
    // (a service container's port is not isolated) can answer for the gateway in its place.
    await inNs(['neigh', 'replace', this.subnet.gateway, 'lladdr', macForIp(this.subnet.gateway), 'dev', 'eth0', 'nud', 'permanent']);
    // An entry left by a container that had this address under a random MAC (before stable MACs,
    // or from another runtime on this bridge) would hold packets until it went stale: ask anew.
    await exec('ip', ['neigh', 'flush', 'to', ip, 'dev', this.config.bridge]).catch(() => undefined);
  }

  /** Removes the netns (which destroys the veth pair) and the host veth if it lingers. */
  async detach(netns: string): Promise<void> {
    const veth = vethName(netns);
    const namespaces = await listNetns();
    if (namespaces.includes(netns)) {
      await exec('ip', ['netns', 'del', netns]);
    }
    if (await linkExists(veth)) {
      await exec('ip', ['link', 'del', 'dev', veth]).catch(async (error: unknown) => {
        if (await linkExists(veth)) throw error;
      });
    }
  }

  async mapPort(mapping: PortMapping): Promise<void> {
    for (const rule of portRules(this.rules, mapping)) await ensureRule(rule);
  }

  /** Removes its rules whether it was mapped as a service or not (a record may predate the flag). */
  async unmapPort(mapping: PortMapping): Promise<void> {
    for (const service of [false, true]) {
      for (const rule of portRules(this.rules, { ...mapping, service })) {
        if (await chainExists(rule.table, rule.chain)) await removeRule(rule);
      }
    }
  }

  /**
   * (Re)writes the egress chains of the container at `ip` in one iptables-restore (atomic; see
   * egressChains) and ensures the jumps to them. Idempotent; call after attach and before the
   * container runs, and again on re-adoption.
   */
  async applyEgress(ip: string, egress: ContainerEgress): Promise<void> {
    await exec('iptables-restore', ['-w', '5', '--noflush'], { input: egressChains(this.rules, ip, egress) });
    for (const rule of egressJumps(this.rules, ip)) await ensureRule(rule);
  }

  /** Removes the jumps to and the chains of the container at `ip`; safe when they are gone. */
  async removeEgress(ip: string): Promise<void> {
    for (const rule of egressJumps(this.rules, ip)) {
      if (await chainExists(rule.table, rule.chain)) await removeRule(rule);
    }
    const chains = this.chains.container(ip);
    await removeChain('filter', chains.forward);
    await removeChain('filter', chains.input);
  }

  /** Removes the jumps, our chains and the bridge. Containers must be detached first. */
  async teardownHost(): Promise<void> {
    for (const rule of jumpRules(this.rules)) {
      if (await chainExists(rule.table, rule.chain)) await removeRule(rule);
    }
    // Per-container egress chains a crash left behind (their jumps go with the chains below).
    const { stdout } = await exec('iptables', ['-w', '5', '-t', 'filter', '-S']);
    const own = new RegExp(`^-N (${this.chains.prefix}-[EI]\\d{1,3})$`, 'gm');
    for (const { table, chain } of ownChains(this.chains)) {
      if (table === 'filter' && (await chainExists('filter', chain))) await iptables(['-t', 'filter', '-F', chain]);
    }
    for (const match of stdout.matchAll(own)) await removeChain('filter', match[1]!);
    for (const { table, chain } of ownChains(this.chains)) await removeChain(table, chain);
    if (await linkExists(this.config.bridge)) {
      await exec('ip', ['link', 'del', 'dev', this.config.bridge]).catch(async (error: unknown) => {
        if (await linkExists(this.config.bridge)) throw error;
      });
    }
  }
}

/** Turns IPv6 off on an interface of the root namespace (when the kernel has IPv6 at all). */
async function disableIpv6(device: string): Promise<void> {
  const path = `/proc/sys/net/ipv6/conf/${device}/disable_ipv6`;
  if (await access(path).then(() => true, () => false)) await writeSysctl(path, '1');
}

export async function listNetns(): Promise<string[]> {
  try {
    const { stdout } = await exec('ip', ['netns', 'list']);
    return stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0])
      .filter((name): name is string => !!name);
  } catch (error) {
    if (error instanceof CommandFailedError) return [];
    throw error;
  }
}
