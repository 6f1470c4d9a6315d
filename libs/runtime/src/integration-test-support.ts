import { randomInt } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { RuncRuntimeConfig } from './runc-runtime';

/**
 * A runtime config of its own for an integration test: everything named after `name` (the
 * container prefix, bridge and iptables chain), a random /24 and the given host-port block, all
 * state under `tmp`, which it makes traversable by others (0711): the containers' root is an
 * unprivileged host uid (user namespace) that must reach its rootfs under it. Test-only.
 */
export function testRuntimeConfig(name: string, tmp: string, portBase: number): RuncRuntimeConfig {
  chmodSync(tmp, 0o711);
  return {
    prefix: name,
    stateDir: join(tmp, 'state'),
    stackDir: join(tmp, 'stack'),
    runcRoot: join(tmp, 'runc'),
    network: {
      bridge: name,
      subnet: `10.${randomInt(200, 250)}.${randomInt(1, 250)}.0/24`,
      hostPortRange: [portBase, portBase + 49],
    },
    iptablesChain: name.toUpperCase(),
  };
}
