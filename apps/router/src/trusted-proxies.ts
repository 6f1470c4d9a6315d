import { BlockList, isIP } from 'node:net';

/**
 * The peers whose forwarding headers (X-Forwarded-*, Forwarded, X-Request-Start) the router
 * believes: the load balancers in front of it, as IP addresses and CIDR ranges. Built once at
 * boot from ROUTER_TRUSTED_PROXIES; `trusts` is a pure lookup, safe from any request.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  /** `entries` must have passed `trustedProxyProblem` (config validates them at boot). */
  constructor(readonly entries: readonly string[] = []) {
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(address, family);
      else this.list.addSubnet(address, Number(prefix), family);
    }
    this.size = entries.length;
  }

  /** True when the peer at `address` (a socket's remoteAddress, IPv4-mapped IPv6 too) is a trusted proxy. */
  trusts(address: string | undefined): boolean {
    if (!address || this.size === 0) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const plain = mapped ? mapped[1]! : address;
    const family = isIP(plain);
    return family !== 0 && this.list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** Why `entry` is not an IP address or a CIDR range, or undefined when it is one. */
export function trustedProxyProblem(entry: string): string | undefined {
  const parts = entry.split('/');
  const [address = '', prefix] = parts;
  const family = isIP(address);
  if (parts.length > 2 || family === 0) return `"${entry}" is not an IP address or a CIDR range like 10.0.0.0/8`;
  if (prefix !== undefined) {
    const bits = family === 6 ? 128 : 32;
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) return `"${entry}" has an invalid prefix length (0 to ${bits})`;
  }
  return undefined;
}

/** The comma- or space-separated list of ROUTER_TRUSTED_PROXIES, without empty entries. */
export function splitTrustedProxies(value: string): string[] {
  return value.split(/[\s,]+/).filter((entry) => entry !== '');
}
