import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ContainerEgress } from './egress';
import type { ContainerHandle, ContainerSpec } from './container-runtime';
import { testRuntimeConfig } from './integration-test-support';
import { chainNames } from './network';
import { cleanupAll } from './cleanup-all';
import { RuncRuntime, type RuncRuntimeConfig } from './runc-runtime';
import { ensureStack, VCAP_GID, VCAP_UID } from './stack';
import { pollUntil } from '@paas/local-services';

const execFileAsync = promisify(execFile);
const sh = async (file: string, args: string[]) => (await execFileAsync(file, args, { encoding: 'utf8' })).stdout;

/**
 * The attacker's app: GET /probe?targets=host:port,udp:host:port tries a TCP connection to each
 * (or sends a UDP datagram and waits for its echo).
 */
const PROBE_JS = `
const http = require('http'), net = require('net'), dgram = require('dgram');
const udp = (host, port) => new Promise((resolve) => {
  const socket = dgram.createSocket('udp4');
  const done = (result) => { clearTimeout(timer); socket.close(); resolve(result); };
  const timer = setTimeout(() => done('timeout'), 1500);
  socket.once('message', () => done('open'));
  socket.once('error', (e) => done(e.code));
  socket.connect(port, host, () => socket.send('ping'));
});
const probe = (target) => target.startsWith('udp:') ? udp(target.slice(4, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))) : new Promise((resolve) => {
  const i = target.lastIndexOf(':');
  const socket = net.connect({ host: target.slice(0, i), port: Number(target.slice(i + 1)), timeout: 1500 });
  socket.once('connect', () => { socket.destroy(); resolve('open'); });
  socket.once('timeout', () => { socket.destroy(); resolve('timeout'); });
  socket.once('error', (e) => resolve(e.code));
});
http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://app');
  const targets = (url.searchParams.get('targets') || '').split(',').filter(Boolean);
  const results = await Promise.all(targets.map(probe));
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(Object.fromEntries(targets.map((t, i) => [t, results[i]]))));
}).listen(Number(process.env.PORT), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

/** TCP listeners and UDP echo servers on every address of a network namespace, on the given ports (the "external host"). */
const LISTENER_JS = `
const net = require('net'), dgram = require('dgram');
for (const port of process.argv.slice(1).map(Number)) {
  net.createServer((s) => s.end()).listen(port, '0.0.0.0');
  const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send(m, r.port, r.address)); u.bind(port, '0.0.0.0');
}
console.log('listening');
`;

const suffix = randomBytes(2).toString('hex');
const portBase = 20000 + randomInt(0, 400) * 100;

describe('egress policy (real runc, as root): a container reaches nothing of the platform', () => {
  let tmp: string;
  let config: RuncRuntimeConfig;
  let other: RuncRuntimeConfig;
  let runtime: RuncRuntime;
  let otherRuntime: RuncRuntime;
  let droplet: string;
  let hostListener: Server;
  let hostPort: number;
  let hostUdp: Socket;
  let extListener: ChildProcess | undefined;
  /** The test's "external host": a netns on a /24 of its own, .2 outside the platform, .3 listed as a platform network. */
  const ext = { netns: `pe${suffix}-x`, veth: `pe${suffix}x`, prefix: `10.${randomInt(200, 250)}.${randomInt(1, 250)}` };
  const extPorts = [portBase + 90, portBase + 91];
  const metadataLike = '169.254.77.1';
  const gateway = (c: RuncRuntimeConfig) => c.network.subnet.replace(/\.0\/24$/, '.1');
  const started: ContainerHandle[] = [];

  const spec = (id: string, egress?: ContainerEgress): ContainerSpec => ({
    id,
    layers: [droplet],
    command: ['/usr/bin/node', '/app/probe.js'],
    cwd: '/app',
    env: { PORT: '8080' },
    user: { uid: VCAP_UID, gid: VCAP_GID },
    memoryMb: 128,
    pidsLimit: 64,
    containerPort: 8080,
    logFile: join(tmp, `${id}.log`),
    ...(egress ? { egress } : {}),
  });

  async function startContainer(r: RuncRuntime, id: string, egress?: ContainerEgress): Promise<ContainerHandle> {
    const handle = await r.start(spec(id, egress));
    started.push(handle);
    return handle;
  }

  /** What the container at `handle` sees when it connects to each target (polls until the app answers). */
  async function probe(handle: ContainerHandle, targets: string[]): Promise<Record<string, string>> {
    return pollUntil(
      `container ${handle.id} to answer`,
      async () => {
        const response = await fetch(`http://127.0.0.1:${handle.hostPort}/probe?targets=${targets.join(',')}`, { signal: AbortSignal.timeout(10_000) });
        return (await response.json()) as Record<string, string>;
      },
      { timeoutMs: 15_000 },
    );
  }

  const opened = (results: Record<string, string>) => Object.entries(results).filter(([, r]) => r === 'open').map(([t]) => t);

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-egress-it-'));
    droplet = join(tmp, 'droplet');
    await mkdir(join(droplet, 'app'), { recursive: true });
    await writeFile(join(droplet, 'app', 'probe.js'), PROBE_JS);
    await writeFile(join(tmp, 'listener.js'), LISTENER_JS);
    const base = testRuntimeConfig(`pe${suffix}`, tmp, portBase);
    config = { ...base, network: { ...base.network, platformNetworks: [`${ext.prefix}.3`] } };
    await mkdir(join(tmp, 'other'));
    other = testRuntimeConfig(`pf${suffix}`, join(tmp, 'other'), portBase + 50);
    if (other.network.subnet === config.network.subnet) other.network.subnet = other.network.subnet.replace(/^10\.(\d+)/, (_, n) => `10.${Number(n) + 1}`);
    await ensureStack(config.stackDir);
    await ensureStack(other.stackDir);
    runtime = new RuncRuntime(config);
    otherRuntime = new RuncRuntime(other);

    // A platform port bound to every address of the host (as the router's admin port was).
    hostListener = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => hostListener.listen(0, '0.0.0.0', resolve));
    hostPort = (hostListener.address() as { port: number }).port;
    // And a UDP service on every address (a statsd, a DNS forwarder), on the same port number.
    hostUdp = createSocket('udp4');
    hostUdp.on('message', (message, remote) => hostUdp.send(message, remote.port, remote.address));
    await new Promise<void>((resolve) => hostUdp.bind(hostPort, '0.0.0.0', resolve));

    // The external host: a netns behind a veth, with a link-local address routed to it as well.
    await sh('ip', ['netns', 'add', ext.netns]);
    await sh('ip', ['link', 'add', 'name', ext.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ext.netns]);
    await sh('ip', ['addr', 'add', `${ext.prefix}.1/24`, 'dev', ext.veth]);
    await sh('ip', ['link', 'set', 'dev', ext.veth, 'up']);
    for (const address of [`${ext.prefix}.2/24`, `${ext.prefix}.3/24`, `${metadataLike}/32`]) {
      await sh('ip', ['-n', ext.netns, 'addr', 'add', address, 'dev', 'eth0']);
    }
    await sh('ip', ['-n', ext.netns, 'link', 'set', 'dev', 'eth0', 'up']);
    await sh('ip', ['-n', ext.netns, 'link', 'set', 'dev', 'lo', 'up']);
    await sh('ip', ['-n', ext.netns, 'route', 'add', 'default', 'via', `${ext.prefix}.1`]);
    await sh('ip', ['route', 'add', `${metadataLike}/32`, 'dev', ext.veth]);
    const listener = spawn('ip', ['netns', 'exec', ext.netns, process.execPath, '-e', LISTENER_JS, ...extPorts.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
    extListener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.stdout!.once('data', () => resolve());
      listener.once('exit', (code) => reject(new Error(`the external listener exited with ${code}`)));
    });
  });

  after(async () => {
    const errors: unknown[] = [];
    await cleanupAll(config).catch((e: unknown) => errors.push(e));
    await cleanupAll(other).catch((e: unknown) => errors.push(e));
    extListener?.kill('SIGKILL');
    hostListener?.close();
    hostUdp?.close();
    await sh('ip', ['route', 'del', `${metadataLike}/32`]).catch(() => undefined);
    await sh('ip', ['link', 'del', 'dev', ext.veth]).catch(() => undefined);
    await sh('ip', ['netns', 'del', ext.netns]).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
    if (errors.length) throw new AggregateError(errors, 'cleanup failed');
  });

  it('without rules, every platform address and port the attacker can find is closed', async () => {
    const neighbour = await startContainer(otherRuntime, `pf${suffix}-nb`);
    const sibling = await startContainer(runtime, `pe${suffix}-sib`);
    const attacker = await startContainer(runtime, `pe${suffix}-att`);
    const gw = gateway(config);
    const targets = [
      // The host through the bridge gateway: the test's own listener on every address, and the
      // usual ports of the API, Redis, Postgres, the router and its admin/metrics ports.
      ...[hostPort, 22, 53, 80, 443, 3000, 4873, 5432, 6379, 8080, 9090, 9100].map((p) => `${gw}:${p}`),
      // Host ports of containers (DNAT'ed on every local address): its own, a sibling's, another cell's.
      `${gw}:${attacker.hostPort}`, `${gw}:${sibling.hostPort}`, `${gw}:${neighbour.hostPort}`,
      // Another cell's bridge: its gateway (a host address), its host port, its container directly.
      `${gateway(other)}:${hostPort}`, `${gateway(other)}:${neighbour.hostPort}`, `${neighbour.ip}:8080`,
      // A sibling container on the same bridge, directly.
      `${sibling.ip}:8080`,
      // The host's loopback, as the container names it (its own), and a link-local address (where
      // cloud metadata answers), routed to the test's own namespace: traffic to the real
      // 169.254.169.254 would leave this machine if the policy failed.
      `127.0.0.1:${hostPort}`, `${metadataLike}:${extPorts[0]}`,
      // Outside the platform, but no security group allows it.
      `${ext.prefix}.2:${extPorts[0]}`,
      // UDP: to the host, to another cell's gateway, outside.
      `udp:${gw}:${hostPort}`, `udp:${gateway(other)}:${hostPort}`, `udp:${ext.prefix}.2:${extPorts[0]}`,
    ];
    const results = await probe(attacker, targets);
    assert.deepEqual(opened(results), [], JSON.stringify(results, null, 1));
    // Rejected (an answer at once), not silently dropped, where the policy decides.
    for (const target of [`${gw}:${hostPort}`, `${gateway(other)}:${hostPort}`, `${ext.prefix}.2:${extPorts[0]}`, `${metadataLike}:${extPorts[0]}`]) {
      assert.equal(results[target], 'ECONNREFUSED', `${target}: ${JSON.stringify(results, null, 1)}`);
    }
    // The host itself still reaches the containers (health checks, the router through host ports).
    assert.deepEqual(await probe(sibling, []), {});
  });

  it('a rule opens exactly its destination and port; platform networks and link-local stay closed even under 0.0.0.0/0', async () => {
    const gw = gateway(config);
    const one = await startContainer(runtime, `pe${suffix}-one`, { rules: [{ destination: `${ext.prefix}.2`, protocol: 'tcp', ports: String(extPorts[0]) }] });
    const results = await probe(one, [
      `${ext.prefix}.2:${extPorts[0]}`, `${ext.prefix}.2:${extPorts[1]}`, `${ext.prefix}.3:${extPorts[0]}`, `${gw}:${hostPort}`,
      `udp:${ext.prefix}.2:${extPorts[0]}`,
    ]);
    assert.deepEqual(results, {
      [`udp:${ext.prefix}.2:${extPorts[0]}`]: 'ECONNREFUSED', // tcp only
      [`${ext.prefix}.2:${extPorts[0]}`]: 'open',
      [`${ext.prefix}.2:${extPorts[1]}`]: 'ECONNREFUSED',
      [`${ext.prefix}.3:${extPorts[0]}`]: 'ECONNREFUSED',
      [`${gw}:${hostPort}`]: 'ECONNREFUSED',
    });

    const wide = await startContainer(runtime, `pe${suffix}-wide`, { rules: [{ destination: '0.0.0.0/0', protocol: 'all' }] });
    const neighbour = started.find((h) => h.id === `pf${suffix}-nb`)!;
    const wideResults = await probe(wide, [
      `${ext.prefix}.2:${extPorts[0]}`, `${ext.prefix}.2:${extPorts[1]}`, `udp:${ext.prefix}.2:${extPorts[0]}`, `udp:${gw}:${hostPort}`,
      `${ext.prefix}.3:${extPorts[0]}`, `${metadataLike}:${extPorts[0]}`, `${gw}:${hostPort}`, `${gateway(other)}:${hostPort}`,
      `${gw}:${one.hostPort}`, `${gateway(other)}:${neighbour.hostPort}`,
    ]);
    assert.deepEqual(wideResults, {
      [`${ext.prefix}.2:${extPorts[0]}`]: 'open',
      [`${ext.prefix}.2:${extPorts[1]}`]: 'open',
      [`udp:${ext.prefix}.2:${extPorts[0]}`]: 'open',
      [`udp:${gw}:${hostPort}`]: 'ECONNREFUSED',
      [`${ext.prefix}.3:${extPorts[0]}`]: 'ECONNREFUSED', // a platform network
      [`${metadataLike}:${extPorts[0]}`]: 'ECONNREFUSED', // link-local
      [`${gw}:${hostPort}`]: 'ECONNREFUSED', // the host is never opened by a rule
      [`${gateway(other)}:${hostPort}`]: 'ECONNREFUSED',
      // Host ports (DNAT'ed on every local address here): another cell's: no rule opens one.
      [`${gateway(other)}:${neighbour.hostPort}`]: 'ECONNREFUSED',
      // A sibling's on this bridge: br_netfilter bridges that DNAT, and isolated ports drop it.
      [`${gw}:${one.hostPort}`]: 'timeout',
    });

    const range = await startContainer(runtime, `pe${suffix}-range`, {
      rules: [{ destination: `${ext.prefix}.1-${ext.prefix}.2`, protocol: 'tcp', ports: `${extPorts[1]}-${extPorts[1] + 5}` }],
    });
    assert.deepEqual(await probe(range, [`${ext.prefix}.2:${extPorts[0]}`, `${ext.prefix}.2:${extPorts[1]}`]), {
      [`${ext.prefix}.2:${extPorts[0]}`]: 'ECONNREFUSED',
      [`${ext.prefix}.2:${extPorts[1]}`]: 'open',
    });
  });

  it('a platform allowance (the npm registry on the gateway) opens that host port alone, and a platform network', async () => {
    const gw = gateway(config);
    const staging = await startContainer(runtime, `pe${suffix}-stg`, {
      allow: [
        { destination: gw, protocol: 'tcp', ports: String(hostPort) },
        { destination: `${ext.prefix}.3`, protocol: 'tcp', ports: String(extPorts[0]) },
      ],
      rules: [],
    });
    assert.deepEqual(await probe(staging, [`${gw}:${hostPort}`, `${gw}:22`, `${gateway(other)}:${hostPort}`, `${ext.prefix}.3:${extPorts[0]}`, `${ext.prefix}.2:${extPorts[0]}`]), {
      [`${gw}:${hostPort}`]: 'open',
      [`${gw}:22`]: 'ECONNREFUSED',
      [`${gateway(other)}:${hostPort}`]: 'ECONNREFUSED',
      [`${ext.prefix}.3:${extPorts[0]}`]: 'open',
      [`${ext.prefix}.2:${extPorts[0]}`]: 'ECONNREFUSED',
    });
  });

  it('the bridge has no IPv6 (no link-local way around the IPv4 rules)', async () => {
    assert.equal((await sh('ip', ['-6', '-o', 'addr', 'show', 'dev', config.network.bridge])).trim(), '');
  });

  it('re-adoption restores a flushed container chain; destroy removes it', async () => {
    const one = started.find((h) => h.id === `pe${suffix}-one`)!;
    const chains = chainNames(config.iptablesChain).container(one.ip);
    await sh('iptables', ['-w', '5', '-F', chains.forward]);
    await sh('iptables', ['-w', '5', '-A', chains.forward, '-j', 'RETURN']); // as if someone had opened it
    const restarted = new RuncRuntime(config);
    await restarted.recover();
    assert.deepEqual(await probe(one, [`${ext.prefix}.2:${extPorts[0]}`, `${ext.prefix}.2:${extPorts[1]}`]), {
      [`${ext.prefix}.2:${extPorts[0]}`]: 'open',
      [`${ext.prefix}.2:${extPorts[1]}`]: 'ECONNREFUSED',
    });
    runtime = restarted;
    await runtime.stop(one.id, 1000);
    const filter = await sh('iptables', ['-w', '5', '-S']);
    assert.ok(!filter.includes(chains.forward) && !filter.includes(chains.input), filter);
  });

  it('cleanupAll removes every egress chain and jump', async () => {
    await cleanupAll(config);
    await cleanupAll(other);
    const filter = await sh('iptables', ['-w', '5', '-S']);
    assert.ok(!filter.includes(config.iptablesChain) && !filter.includes(other.iptablesChain), filter);
  });
});
