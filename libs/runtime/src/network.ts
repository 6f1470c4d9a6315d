import { createHash } from 'node:crypto';
import { readFile, writeFile, access } from 'node:fs/promises';
import { exec, execSucceeds } from './exec';
import { chainExists, ensureChain, ensureRule, iptables, removeChain, removeRule, type Rule } from './iptables';
import { ALWAYS_DENIED, destinationProblem, ruleMatches, type ContainerEgress } from './egress';
import { CommandFailedError, RuntimeError, RuntimeErrorCode } from './runtime-error';

/** The network part of the runtime config. */
export interface NetworkConfig {
  /** Linux bridge of this runtime, at most 15 characters. */
  bridge: string;
  /** A /24 such as "10.213.1.0/24"; .1 is the gateway on the bridge, .2-.254 go to containers. */
  subnet: string;
  hostPortRange: [number, number];
  /** When set, host ports are DNAT'ed only on these local addresses; otherwise on every local one. */
  hostAddresses?: string[];
  /**
   * CIDRs (or addresses) of the platform's own hosts and networks (the API, Redis, Postgres, other
   * cells, routers' admin ports) that no container reaches whatever its security groups allow;
   * only a platform allowance (ContainerEgress.allow) gets through. Link-local is always denied.
   */
  platformNetworks?: string[];
}

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
 * Names of the iptables chains one runtime owns (`<chain>-DNAT`, `-POST`, `-FWD`, `-EGR`, and for
 * the egress policy `-EGF` (FORWARD from the bridge), `-IN` (INPUT from the bridge) with one
 * `-E<n>`/`-I<n>` pair per container, n the last octet of its address).
 */
export interface ChainNames {
  prefix: string;
  dnat: string;
  post: string;
  forward: string;
  egress: string;
  egressFilter: string;
  input: string;
  /** Rejects with a TCP reset (tcp) or port unreachable (the rest): ICMP alone is rate-limited by the kernel. */
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
    reject: `${iptablesChain}-REJ`,
    container: (ip: string) => {
      const octet = ip.split('.')[3];
      return { forward: `${iptablesChain}-E${octet}`, input: `${iptablesChain}-I${octet}` };
    },
  };
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

    for (const rule of this.hostRules()) await ensureChain(rule.table, rule.chain);
    for (const rule of this.chainRules()) await ensureRule(rule);
    for (const rule of this.jumpRules()) await ensureRule(rule);
  }

  /** True when br_netfilter is active, so the FORWARD rules also see bridged traffic. */
  async bridgeIsolationActive(): Promise<boolean> {
    const value = await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').catch(() => '0');
    return value.trim() === '1';
  }

  private hostRules(): Rule[] {
    return [
      { table: 'filter', chain: this.chains.reject, spec: [] },
      { table: 'nat', chain: this.chains.dnat, spec: [] },
      { table: 'nat', chain: this.chains.post, spec: [] },
      { table: 'filter', chain: this.chains.forward, spec: [] },
      { table: 'filter', chain: this.chains.egress, spec: [] },
      { table: 'filter', chain: this.chains.egressFilter, spec: [] },
      { table: 'filter', chain: this.chains.input, spec: [] },
    ];
  }

  /** Rules inside our own chains. */
  private chainRules(): Rule[] {
    const br = this.config.bridge;
    const { post, forward, egress, egressFilter, input } = this.chains;
    const established = ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED'];
    const reject = ['-j', this.chains.reject];
    return [
      { table: 'filter', chain: this.chains.reject, spec: ['-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'] },
      { table: 'filter', chain: this.chains.reject, spec: ['-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'] },
      // Host-originated connections to 127.0.0.1:hostPort leave through the bridge: give them a real source.
      { table: 'nat', chain: post, spec: ['-s', '127.0.0.0/8', '-o', br, '-j', 'MASQUERADE'] },
      { table: 'nat', chain: post, spec: ['-s', this.subnet.cidr, '!', '-o', br, '-j', 'MASQUERADE'] },
      // Containers on this bridge never talk to each other directly (needs br_netfilter).
      { table: 'filter', chain: forward, spec: ['-i', br, '-o', br, '-j', 'DROP'] },
      { table: 'filter', chain: forward, spec: ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'] },
      // From elsewhere, containers are reachable only through their host port (DNAT).
      { table: 'filter', chain: forward, spec: ['-o', br, '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'ACCEPT'] },
      { table: 'filter', chain: forward, spec: ['-o', br, '-j', 'DROP'] },
      // Egress is accepted in a chain jumped to from the END of FORWARD, so that every runtime's
      // inbound checks (at the top) run before any egress accept.
      { table: 'filter', chain: egress, spec: ['-i', br, '-j', 'ACCEPT'] },
      // Default deny from containers, at the top of FORWARD: replies pass; each container's own
      // chain (jumped to by its source address, see applyEgress) returns what its rules allow;
      // everything else is rejected. What returns goes on to the END-of-FORWARD accept above.
      { table: 'filter', chain: egressFilter, spec: ['-i', br, ...established, '-j', 'RETURN'] },
      { table: 'filter', chain: egressFilter, spec: ['-i', br, ...reject] },
      // And to the host itself (any of its addresses, any port): only replies and allowances.
      { table: 'filter', chain: input, spec: [...established, '-j', 'ACCEPT'] },
      { table: 'filter', chain: input, spec: reject },
    ];
  }

  /** Jumps from the built-in chains into ours. */
  private jumpRules(): Rule[] {
    const { dnat, post, forward, egress, egressFilter, input } = this.chains;
    const local = ['-m', 'addrtype', '--dst-type', 'LOCAL'];
    const br = this.config.bridge;
    return [
      { table: 'filter', chain: 'INPUT', spec: ['-i', br, '-j', input], first: true },
      { table: 'filter', chain: 'FORWARD', spec: ['-i', br, '-j', egressFilter], first: true },
      { table: 'nat', chain: 'PREROUTING', spec: [...local, '-j', dnat] },
      { table: 'nat', chain: 'OUTPUT', spec: [...local, '-j', dnat] },
      { table: 'nat', chain: 'POSTROUTING', spec: ['-j', post] },
      { table: 'filter', chain: 'FORWARD', spec: ['-j', forward], first: true },
      { table: 'filter', chain: 'FORWARD', spec: ['-j', egress] },
    ];
  }

  /** Creates the netns and veth of one container and configures eth0 with `ip`. */
  async attach(netns: string, ip: string): Promise<void> {
    const veth = vethName(netns);
    if (!(await listNetns()).includes(netns)) await exec('ip', ['netns', 'add', netns]);
    if (await linkExists(veth)) await exec('ip', ['link', 'del', 'dev', veth]);
    await exec('ip', ['link', 'add', 'name', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await exec('ip', ['link', 'set', 'dev', veth, 'master', this.config.bridge]);
    // Isolated bridge ports forward only to the bridge itself (the host), never to each other:
    // containers cannot reach one another at L2 even without br_netfilter.
    await exec('ip', ['link', 'set', 'dev', veth, 'type', 'bridge_slave', 'isolated', 'on']);
    await disableIpv6(veth);
    await exec('ip', ['link', 'set', 'dev', veth, 'up']);
    const inNs = (args: string[]) => exec('ip', ['-n', netns, ...args]);
    // Same address, same MAC (see macForIp): a reused address is reachable at once.
    await inNs(['link', 'set', 'dev', 'eth0', 'address', macForIp(ip)]);
    await inNs(['addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await inNs(['link', 'set', 'dev', 'eth0', 'up']);
    await inNs(['link', 'set', 'dev', 'lo', 'up']);
    await inNs(['route', 'add', 'default', 'via', this.subnet.gateway]);
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

  private portRules(containerId: string, hostPort: number, ip: string, containerPort: number): Rule[] {
    const addresses = this.config.hostAddresses?.length ? this.config.hostAddresses : [undefined];
    return addresses.map((address) => ({
      table: 'nat' as const,
      chain: this.chains.dnat,
      spec: [
        ...(address ? ['-d', `${address}/32`] : []),
        '-p', 'tcp', '-m', 'tcp', '--dport', String(hostPort),
        '-m', 'comment', '--comment', containerId,
        '-j', 'DNAT', '--to-destination', `${ip}:${containerPort}`,
      ],
    }));
  }

  async mapPort(containerId: string, hostPort: number, ip: string, containerPort: number): Promise<void> {
    for (const rule of this.portRules(containerId, hostPort, ip, containerPort)) await ensureRule(rule);
  }

  async unmapPort(containerId: string, hostPort: number, ip: string, containerPort: number): Promise<void> {
    if (!(await chainExists('nat', this.chains.dnat))) return;
    for (const rule of this.portRules(containerId, hostPort, ip, containerPort)) await removeRule(rule);
  }

  private egressJumps(ip: string): Rule[] {
    const chains = this.chains.container(ip);
    const source = ['-s', `${ip}/32`];
    return [
      // -g: what its chain RETURNs goes back to FORWARD (to the end-of-FORWARD accept), not to our final REJECT.
      { table: 'filter', chain: this.chains.egressFilter, spec: ['-i', this.config.bridge, ...source, '-g', chains.forward], position: 2 },
      // -j: what its input chain does not accept comes back to our final REJECT.
      { table: 'filter', chain: this.chains.input, spec: [...source, '-j', chains.input], position: 2 },
    ];
  }

  /**
   * (Re)writes the egress chains of the container at `ip` in one iptables-restore (atomic) and
   * ensures the jumps to them: its allowances, then REJECT for link-local and the platform
   * networks, then its rules, then REJECT. Idempotent; call after attach and before the container
   * runs, and again on re-adoption.
   */
  async applyEgress(ip: string, egress: ContainerEgress): Promise<void> {
    const chains = this.chains.container(ip);
    const reject = `-j ${this.chains.reject}`;
    const lines = ['*filter', `:${chains.forward} - [0:0]`, `:${chains.input} - [0:0]`, `-F ${chains.forward}`, `-F ${chains.input}`];
    for (const rule of egress.allow ?? []) {
      for (const match of ruleMatches(rule)) {
        lines.push(`-A ${chains.forward} ${match.join(' ')} -j RETURN`, `-A ${chains.input} ${match.join(' ')} -j ACCEPT`);
      }
    }
    for (const network of [...ALWAYS_DENIED, ...(this.config.platformNetworks ?? [])]) {
      lines.push(`-A ${chains.forward} -d ${network.includes('/') ? network : `${network}/32`} ${reject}`);
    }
    for (const rule of egress.rules) {
      for (const match of ruleMatches(rule)) lines.push(`-A ${chains.forward} ${match.join(' ')} -j RETURN`);
    }
    lines.push(`-A ${chains.forward} ${reject}`, 'COMMIT', '');
    await exec('iptables-restore', ['-w', '5', '--noflush'], { input: lines.join('\n') });
    for (const rule of this.egressJumps(ip)) await ensureRule(rule);
  }

  /** Removes the jumps to and the chains of the container at `ip`; safe when they are gone. */
  async removeEgress(ip: string): Promise<void> {
    for (const rule of this.egressJumps(ip)) {
      if (await chainExists(rule.table, rule.chain)) await removeRule(rule);
    }
    const chains = this.chains.container(ip);
    await removeChain('filter', chains.forward);
    await removeChain('filter', chains.input);
  }

  /** Removes the jumps, our chains and the bridge. Containers must be detached first. */
  async teardownHost(): Promise<void> {
    for (const rule of this.jumpRules()) {
      if (await chainExists(rule.table, rule.chain)) await removeRule(rule);
    }
    // Per-container egress chains a crash left behind (their jumps go with the chains below).
    const { stdout } = await exec('iptables', ['-w', '5', '-t', 'filter', '-S']);
    const own = new RegExp(`^-N (${this.chains.prefix}-[EI]\\d{1,3})$`, 'gm');
    for (const rule of this.hostRules()) {
      if (rule.table === 'filter' && (await chainExists('filter', rule.chain))) await iptables(['-t', 'filter', '-F', rule.chain]);
    }
    for (const match of stdout.matchAll(own)) await removeChain('filter', match[1]!);
    for (const rule of this.hostRules()) await removeChain(rule.table, rule.chain);
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
