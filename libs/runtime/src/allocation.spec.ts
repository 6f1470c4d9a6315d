import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chainNames, parseSubnet, vethName } from './network';
import { buildOciConfig } from './oci-spec';
import { allocateIp, allocatePort, claimPort } from './port-allocator';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

const alwaysFree = async () => true;

describe('allocation', () => {
  it('parses a /24 and rejects anything else', () => {
    assert.deepEqual(parseSubnet('10.213.1.0/24'), { cidr: '10.213.1.0/24', prefix: '10.213.1', gateway: '10.213.1.1' });
    assert.throws(() => parseSubnet('10.213.1.0/16'), RuntimeError);
    assert.throws(() => parseSubnet('10.300.1.0/24'), RuntimeError);
  });

  it('gives the lowest free address after the gateway', () => {
    const subnet = parseSubnet('10.9.9.0/24');
    assert.equal(allocateIp(subnet, new Set()), '10.9.9.2');
    assert.equal(allocateIp(subnet, new Set(['10.9.9.2', '10.9.9.4'])), '10.9.9.3');
    const all = new Set(Array.from({ length: 253 }, (_, i) => `10.9.9.${i + 2}`));
    assert.throws(() => allocateIp(subnet, all), /no free address/);
  });

  it('moves the port cursor forward, wraps, and skips used or busy ports', async () => {
    assert.equal(await allocatePort([100, 102], new Set(), undefined, alwaysFree), 100);
    assert.equal(await allocatePort([100, 102], new Set(), 100, alwaysFree), 101);
    assert.equal(await allocatePort([100, 102], new Set([100]), 102, alwaysFree), 101);
    assert.equal(await allocatePort([100, 102], new Set(), 100, async (port) => port !== 101), 102);
    await assert.rejects(allocatePort([100, 101], new Set([100, 101]), undefined, alwaysFree), /no free host port/);
  });

  it('claims a fixed port unless a container holds it or the host listens on it (PortInUse)', async () => {
    const inUse = (error: unknown) => error instanceof RuntimeError && error.code === RuntimeErrorCode.PortInUse;
    assert.equal(await claimPort(7000, new Set([7001]), alwaysFree), 7000);
    await assert.rejects(claimPort(7000, new Set([7000]), alwaysFree), inUse);
    await assert.rejects(claimPort(7000, new Set(), async () => false), inUse);
  });

  it('keeps interface and chain names within kernel limits', () => {
    assert.ok(vethName('paas-c1-' + 'x'.repeat(52)).length <= 15);
    assert.notEqual(vethName('a-1'), vethName('a-2'));
    for (const name of Object.values(chainNames('A'.repeat(20)))) assert.ok(name.length <= 28, name);
    assert.throws(() => chainNames('A'.repeat(21)), RuntimeError);
  });
});

describe('buildOciConfig', () => {
  const config = buildOciConfig({
    spec: {
      id: 'paas-c1-x',
      layers: ['/droplet'],
      command: ['/usr/bin/node', 'server.js'],
      cwd: '/app',
      env: { PORT: '8080' },
      user: { uid: 2000, gid: 2000 },
      memoryMb: 64,
      pidsLimit: 100,
      binds: [{ source: '/cache', destination: '/tmp/cache', readonly: true }],
    },
    netnsPath: '/var/run/netns/paas-c1-x',
    cgroupsPath: '/paas/paas-c1-x',
    idMapping: { hostId: 3_000_000, size: 65_536 },
  }) as {
    process: { user: unknown; capabilities: Record<string, unknown[]>; noNewPrivileges: boolean; env: string[] };
    linux: {
      namespaces: Array<{ type: string; path?: string }>;
      resources: Record<string, Record<string, number>>;
      uidMappings: unknown[];
      gidMappings: unknown[];
    };
    mounts: Array<{ destination: string; options?: string[] }>;
  };

  it('runs the user without capabilities and with no-new-privileges', () => {
    assert.deepEqual(config.process.user, { uid: 2000, gid: 2000 });
    assert.ok(Object.values(config.process.capabilities).every((set) => set.length === 0));
    assert.equal(config.process.noNewPrivileges, true);
    assert.ok(config.process.env.includes('PORT=8080'));
  });

  it('limits memory without swap, pids and cpu, and joins the prepared netns', () => {
    assert.equal(config.linux.resources['memory']!['limit'], 64 * 1024 * 1024);
    assert.equal(config.linux.resources['memory']!['swap'], 64 * 1024 * 1024);
    assert.equal(config.linux.resources['pids']!['limit'], 100);
    assert.equal(config.linux.resources['cpu']!['shares'], 64);
    assert.deepEqual(config.linux.namespaces.find((ns) => ns.type === 'network'), {
      type: 'network',
      path: '/var/run/netns/paas-c1-x',
    });
  });

  it('puts the container in a user namespace of its own that maps its ids to the high host range', () => {
    assert.ok(config.linux.namespaces.some((ns) => ns.type === 'user' && ns.path === undefined));
    assert.deepEqual(config.linux.uidMappings, [{ containerID: 0, hostID: 3_000_000, size: 65_536 }]);
    assert.deepEqual(config.linux.gidMappings, [{ containerID: 0, hostID: 3_000_000, size: 65_536 }]);
  });

  it('mounts host /usr and read-only binds read-only', () => {
    assert.deepEqual(config.mounts.find((m) => m.destination === '/usr')?.options, ['rbind', 'ro', 'nosuid', 'nodev']);
    assert.ok(config.mounts.find((m) => m.destination === '/tmp/cache')?.options?.includes('ro'));
  });
});
