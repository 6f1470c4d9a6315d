/**
 * Simulated hosts for tests: each "host" is a network namespace of its own with one address on a
 * private /24, joined to the root namespace by a veth on a bridge the test owns. A cell run inside
 * one sees only that namespace's interfaces, routes and iptables, as on a machine of its own; the
 * root namespace (controller, router, Redis) reaches it at its address through the bridge, whose
 * host-side IP is the address the services listen on for the hosts.
 */
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SimulatedHost {
  /** `<tag>-h<i>`, 1-based. */
  name: string;
  /** The named network namespace (`/run/netns/<netns>`); the same as name. */
  netns: string;
  /** The host's address on the bridge, e.g. 10.231.147.2. */
  address: string;
  /** Root-side end of the host's veth (the namespace side is its eth0). */
  veth: string;
}

export interface SimulatedHosts {
  tag: string;
  /** The bridge in the root namespace that all hosts are plugged into. */
  bridge: string;
  /** e.g. 10.231.147.0/24. */
  subnet: string;
  /** The bridge's own address (.1): the hosts' default gateway and the address services listen on for them. */
  gateway: string;
  hosts: SimulatedHost[];
}

async function ip(args: string[]): Promise<string> {
  return (await run('ip', args)).stdout;
}

async function succeeds(command: string, args: string[]): Promise<boolean> {
  return run(command, args).then(
    () => true,
    () => false,
  );
}

/** First three octets of every IPv4 /24 already in use on this machine (addresses and routes). */
async function usedPrefixes(): Promise<Set<string>> {
  const text = `${await ip(['-o', '-4', 'addr', 'show'])}\n${await ip(['-4', 'route', 'show', 'table', 'all'])}`;
  const used = new Set<string>();
  for (const match of text.matchAll(/\b(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}\b/g)) used.add(match[1]);
  return used;
}

/**
 * A random 10.2xx.yyy.0/24 that no interface or route of this machine uses. The third octet stays
 * at 100 or above: isolated platforms give their cells 10.2xx.1.0/24, 10.2xx.2.0/24, ...
 */
async function freeSubnetPrefix(): Promise<string> {
  const used = await usedPrefixes();
  for (let i = 0; i < 200; i++) {
    const prefix = `10.${200 + randomInt(50)}.${100 + randomInt(150)}`;
    if (!used.has(prefix)) return prefix;
  }
  throw new Error('no free 10.2xx.yyy.0/24 found for the simulated hosts');
}

/**
 * Creates `count` simulated hosts named after `tag` (at most 10 characters, so that
 * `<tag>-h<i>` fits an interface name): a bridge `<tag>-hb` with the .1 of a free /24, and per
 * host a netns `<tag>-h<i>` whose eth0 (.i+1) is the peer of veth `<tag>-h<i>` on that bridge,
 * with lo up, a default route via the bridge and IP forwarding on (its cell routes to its
 * containers). On any failure everything created so far is removed before the error is thrown.
 */
export async function createSimulatedHosts(tag: string, count: number): Promise<SimulatedHosts> {
  if (!/^[a-z0-9]{1,10}$/.test(tag)) throw new Error(`tag "${tag}" must be 1-10 characters of a-z and 0-9`);
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new Error(`count ${count} must be 1-9`);
  const prefix = await freeSubnetPrefix();
  const hosts: SimulatedHosts = {
    tag,
    bridge: `${tag}-hb`,
    subnet: `${prefix}.0/24`,
    gateway: `${prefix}.1`,
    hosts: Array.from({ length: count }, (_, i) => ({
      name: `${tag}-h${i + 1}`,
      netns: `${tag}-h${i + 1}`,
      address: `${prefix}.${i + 2}`,
      veth: `${tag}-h${i + 1}`,
    })),
  };
  try {
    await ip(['link', 'add', 'name', hosts.bridge, 'type', 'bridge']);
    await ip(['addr', 'add', `${hosts.gateway}/24`, 'dev', hosts.bridge]);
    await ip(['link', 'set', 'dev', hosts.bridge, 'up']);
    for (const host of hosts.hosts) {
      await ip(['netns', 'add', host.netns]);
      await ip(['link', 'add', 'name', host.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.netns]);
      await ip(['link', 'set', 'dev', host.veth, 'master', hosts.bridge]);
      await ip(['link', 'set', 'dev', host.veth, 'up']);
      const inNs = (args: string[]) => ip(['-n', host.netns, ...args]);
      await inNs(['link', 'set', 'dev', 'lo', 'up']);
      await inNs(['addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
      await inNs(['link', 'set', 'dev', 'eth0', 'up']);
      await inNs(['route', 'add', 'default', 'via', hosts.gateway]);
      // /proc/sys/net belongs to the namespace of the process that writes it.
      await run('nsenter', [`--net=/run/netns/${host.netns}`, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    }
  } catch (error) {
    await removeSimulatedHosts(hosts).catch(() => undefined);
    throw error;
  }
  return hosts;
}

/**
 * Removes the hosts' namespaces (which takes their veths, bridges and iptables rules along), any
 * veth left in the root namespace and the bridge. Safe to call twice and on half-made hosts.
 */
export async function removeSimulatedHosts(hosts: SimulatedHosts | undefined): Promise<void> {
  if (!hosts) return;
  const errors: unknown[] = [];
  const existingNetns = (await ip(['netns', 'list'])).split('\n').map((l) => l.trim().split(/\s+/)[0]);
  for (const host of hosts.hosts) {
    if (existingNetns.includes(host.netns)) await ip(['netns', 'del', host.netns]).catch((e: unknown) => errors.push(e));
    if (await succeeds('ip', ['link', 'show', 'dev', host.veth])) {
      await ip(['link', 'del', 'dev', host.veth]).catch(async (e: unknown) => {
        if (await succeeds('ip', ['link', 'show', 'dev', host.veth])) errors.push(e);
      });
    }
  }
  if (await succeeds('ip', ['link', 'show', 'dev', hosts.bridge])) {
    await ip(['link', 'del', 'dev', hosts.bridge]).catch((e: unknown) => errors.push(e));
  }
  if (errors.length > 0) throw new AggregateError(errors, `removing simulated hosts ${hosts.tag}: ${errors.map(String).join('; ')}`);
}

/**
 * Removes whatever simulated hosts of `tag` exist (found by their names: netns and veths
 * `<tag>-h<i>`, the bridge `<tag>-hb`), for a platform whose runner died before it could call
 * removeSimulatedHosts. Returns the netns names it found; safe when there are none.
 */
export async function removeSimulatedHostsOf(tag: string): Promise<string[]> {
  if (!/^[a-z0-9]{1,10}$/.test(tag)) return [];
  const pattern = new RegExp(`^${tag}-h[1-9]$`);
  const netns = (await ip(['netns', 'list'])).split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter((n) => pattern.test(n));
  const links = (await ip(['-o', 'link', 'show'])).split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter((n) => pattern.test(n));
  const names = [...new Set([...netns, ...links])];
  await removeSimulatedHosts({
    tag,
    bridge: `${tag}-hb`,
    subnet: '',
    gateway: '',
    hosts: names.map((name) => ({ name, netns: name, address: '', veth: name })),
  });
  return netns;
}

/**
 * What a simulated host still holds besides its own lo and eth0: links (a cell's bridge, container
 * veths) and iptables rules or chains named after the tag. After its cell stopped, nothing.
 */
export async function simulatedHostLeftovers(host: SimulatedHost, tag: string): Promise<string[]> {
  const found: string[] = [];
  const links = await ip(['-n', host.netns, '-o', 'link', 'show']);
  for (const line of links.split('\n')) {
    const name = line.split(':')[1]?.trim().split('@')[0];
    if (name && name !== 'lo' && name !== 'eth0') found.push(`${host.name} link: ${name}`);
  }
  for (const table of ['nat', 'filter']) {
    const rules = (await run('nsenter', [`--net=/run/netns/${host.netns}`, 'iptables', '-w', '5', '-t', table, '-S'])).stdout;
    for (const line of rules.split('\n')) if (line.toLowerCase().includes(tag.toLowerCase())) found.push(`${host.name} iptables ${table}: ${line}`);
  }
  return found;
}
