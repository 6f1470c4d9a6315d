import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pollUntil } from '@paas/local-services';
import type { ContainerEgress } from './egress';
import type { ContainerHandle, ContainerSpec } from './container-runtime';
import { createTestRuntime, type TestRuntime } from './integration-test-support';
import { chainNames } from './network';
import { RuncRuntime, type RuncRuntimeConfig } from './runc-runtime';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

const execFileAsync = promisify(execFile);
const sh = async (file: string, args: string[]) => (await execFileAsync(file, args, { encoding: 'utf8' })).stdout;

/**
 * One Redis PING to `host:port` (from `localAddress` when given): the server's answer ("+PONG"),
 * or how the connection failed (ECONNREFUSED: rejected where the policy decides; timeout: dropped).
 * The same source runs in the client containers, on the host and in the outside namespace.
 */
const PING_FN = `(target, localAddress) => new Promise((resolve) => {
  const i = target.lastIndexOf(':');
  const socket = require('net').connect({ host: target.slice(0, i), port: Number(target.slice(i + 1)), timeout: 2000, ...(localAddress ? { localAddress } : {}) });
  let data = '';
  socket.once('connect', () => socket.write('PING\\r\\n'));
  socket.on('data', (chunk) => { data += chunk; if (data.includes('\\r\\n')) { socket.destroy(); resolve(data.trim()); } });
  socket.once('timeout', () => { socket.destroy(); resolve('timeout'); });
  socket.once('error', (e) => resolve(e.code));
  socket.once('close', () => resolve(data.trim() || 'closed'));
})`;

/** The client app: GET /ping?targets=host:port,... answers what PING_FN saw for each. */
const CLIENT_JS = `
const ping = ${PING_FN};
require('http').createServer(async (req, res) => {
  const targets = (new URL(req.url, 'http://app').searchParams.get('targets') || '').split(',').filter(Boolean);
  const results = await Promise.all(targets.map((t) => ping(t)));
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(Object.fromEntries(targets.map((t, i) => [t, results[i]]))));
}).listen(8080, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

const suffix = randomBytes(2).toString('hex');
const PONG = '+PONG';
const gateway = (config: RuncRuntimeConfig) => config.network.subnet.replace(/\.0\/24$/, '.1');

/** What `handle` (a client container, its host port DNAT'ed on `at`) sees when it PINGs each target. */
function pings(handle: ContainerHandle, targets: string[], at = '127.0.0.1'): Promise<Record<string, string>> {
  return pollUntil(
    `client ${handle.id} to answer`,
    async () => (await (await fetch(`http://${at}:${handle.hostPort}/ping?targets=${targets.join(',')}`, { signal: AbortSignal.timeout(10_000) })).json()) as Record<string, string>,
    { timeoutMs: 15_000 },
  );
}

/** One PING from this host (no netns) or from the outside namespace. */
async function pingFrom(netns: string | undefined, target: string, localAddress?: string): Promise<string> {
  const script = `(${PING_FN})(process.argv[1], process.argv[2]).then((r) => console.log(r))`;
  const command = [process.execPath, '-e', script, target, ...(localAddress ? [localAddress] : [])];
  return (await (netns ? sh('ip', ['netns', 'exec', netns, ...command]) : sh(command[0]!, command.slice(1)))).trim();
}

/** A client container on `fixture` with `egress`, started and answering. */
async function client(fixture: TestRuntime, name: string, egress: ContainerEgress): Promise<ContainerHandle> {
  const handle = await fixture.runtime.start(fixture.spec(`${fixture.config.prefix}-${name}`, { command: ['/usr/bin/node', '/app/client.js'], containerPort: 8080, egress }));
  await pings(handle, [], fixture.config.network.hostAddresses?.[0]);
  return handle;
}

/**
 * Two cells' runtimes on one machine, A (the service's) and B, on bridges of their own with
 * `hostAddresses` (given the outside's prefix), B's chains made first (A's then sit above them in
 * FORWARD: the order in which an accept in A's inbound chain would skip B's egress filter); the
 * outside host, a netns behind a veth whose host end is `<prefix>.1` (.2 is nobody, .3 a platform
 * network); and a Redis server in a service container on A at `servicePort`, answering the host
 * at the first host address.
 */
interface ServiceScene {
  a: TestRuntime;
  b: TestRuntime;
  ext: { netns: string; veth: string; prefix: string };
  service: ContainerHandle;
  servicePort: number;
  dispose(): Promise<void>;
}

async function createServiceScene(name: string, hostAddresses: (extPrefix: string) => string[]): Promise<ServiceScene> {
  const portBase = 20000 + randomInt(0, 200) * 200;
  const ext = { netns: `${name}${suffix}-x`, veth: `${name}${suffix}x`, prefix: `10.${randomInt(200, 250)}.${randomInt(1, 250)}` };
  const cell = (config: RuncRuntimeConfig): RuncRuntimeConfig => ({
    ...config,
    network: { ...config.network, hostAddresses: hostAddresses(ext.prefix), platformNetworks: [`${ext.prefix}.3`] },
  });
  const appFiles = { 'client.js': CLIENT_JS };
  const defaults: Partial<ContainerSpec> = { pidsLimit: 64 };
  const fixtures: TestRuntime[] = [];
  const dispose = async () => {
    const errors: unknown[] = [];
    for (const fixture of fixtures) await fixture.dispose().catch((error: unknown) => errors.push(error));
    await sh('ip', ['link', 'del', 'dev', ext.veth]).catch(() => undefined);
    await sh('ip', ['netns', 'del', ext.netns]).catch(() => undefined);
    if (errors.length) throw new AggregateError(errors, 'cleanup failed');
  };
  try {
    const a = await createTestRuntime({ name: `${name}a${suffix}`, portBase, appFiles, defaults, configure: cell });
    fixtures.push(a);
    const b = await createTestRuntime({
      name: `${name}b${suffix}`,
      portBase: portBase + 50,
      appFiles,
      defaults,
      configure: (config) => {
        const configured = cell(config);
        // Another /24 than A's (both are random).
        if (configured.network.subnet === a.config.network.subnet) configured.network.subnet = configured.network.subnet.replace(/^10\.(\d+)/, (_, n) => `10.${Number(n) + 1}`);
        return configured;
      },
    });
    fixtures.push(b);
    await b.runtime.recover();
    await a.runtime.recover();

    await sh('ip', ['netns', 'add', ext.netns]);
    await sh('ip', ['link', 'add', 'name', ext.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ext.netns]);
    await sh('ip', ['addr', 'add', `${ext.prefix}.1/24`, 'dev', ext.veth]);
    await sh('ip', ['link', 'set', 'dev', ext.veth, 'up']);
    for (const address of [`${ext.prefix}.2/24`, `${ext.prefix}.3/24`]) await sh('ip', ['-n', ext.netns, 'addr', 'add', address, 'dev', 'eth0']);
    await sh('ip', ['-n', ext.netns, 'link', 'set', 'dev', 'eth0', 'up']);
    await sh('ip', ['-n', ext.netns, 'link', 'set', 'dev', 'lo', 'up']);
    await sh('ip', ['-n', ext.netns, 'route', 'add', 'default', 'via', `${ext.prefix}.1`]);

    // Outside both runtimes' ranges, as a cell's service range is.
    const servicePort = portBase + 150;
    const service = await a.runtime.start(a.spec(`${a.config.prefix}-redis`, {
      command: ['/usr/bin/redis-server', '--port', '6379', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', '/tmp'],
      containerPort: 6379,
      hostPort: servicePort,
      service: true,
    }));
    await pollUntil('the service to answer the host', async () => {
      const answer = await pingFrom(undefined, `${hostAddresses(ext.prefix)[0]}:${servicePort}`);
      if (answer !== PONG) throw new Error(answer);
      return true;
    }, { timeoutMs: 15_000 });
    return { a, b, ext, service, servicePort, dispose };
  } catch (error) {
    await dispose().catch(() => undefined);
    throw error;
  }
}

describe('service containers of loopback cells (real runc, as root): reachable by the containers that list them, by the host and the platform alone', () => {
  let scene: ServiceScene;
  let a: TestRuntime;
  let b: TestRuntime;
  let service: ContainerHandle;
  let servicePort: number;
  let ext: ServiceScene['ext'];

  before(async () => {
    scene = await createServiceScene('s', () => ['127.0.0.1']);
    ({ a, b, service, servicePort, ext } = scene);
  });

  after(() => scene?.dispose());

  it('runs in the order that matters: A\'s inbound chain above B\'s egress filter in FORWARD', async () => {
    const forward = (await sh('iptables', ['-w', '5', '-S', 'FORWARD'])).split('\n');
    const at = (chain: string) => forward.findIndex((line) => line.endsWith(`-j ${chain}`));
    assert.ok(at(chainNames(a.config.iptablesChain).forward) >= 0 && at(chainNames(a.config.iptablesChain).forward) < at(chainNames(b.config.iptablesChain).egressFilter), forward.join('\n'));
  });

  it('a container of the sibling runtime that lists the service reaches it at its own gateway, and nothing else of it', async () => {
    const gwA = gateway(a.config);
    const gwB = gateway(b.config);
    const bound = await client(b, 'bound', { rules: [], services: [{ host: gwB, port: servicePort }] });
    assert.deepEqual(await pings(bound, [`${gwB}:${servicePort}`, `${gwA}:${servicePort}`, `${service.ip}:6379`]), {
      [`${gwB}:${servicePort}`]: PONG,
      [`${gwA}:${servicePort}`]: 'ECONNREFUSED', // not the endpoint it was given
      [`${service.ip}:6379`]: 'timeout', // the container directly: A's bridge drops what was not DNAT'ed
    });
  });

  it('a container that does not list it is refused, even with a rule allowing everything', async () => {
    const gwA = gateway(a.config);
    const gwB = gateway(b.config);
    const wide = await client(b, 'wide', { rules: [{ destination: '0.0.0.0/0', protocol: 'all' }] });
    const results = await pings(wide, [`${gwB}:${servicePort}`, `${gwA}:${servicePort}`, `${service.ip}:6379`]);
    assert.deepEqual(results, {
      [`${gwB}:${servicePort}`]: 'ECONNREFUSED',
      [`${gwA}:${servicePort}`]: 'ECONNREFUSED',
      [`${service.ip}:6379`]: 'timeout', // its rule lets it out; A's bridge drops what was not DNAT'ed
    });
  });

  it('on the service\'s own bridge (hairpin): reached through the host port by a container that lists it, refused to one that does not', async () => {
    const gwA = gateway(a.config);
    const bound = await client(a, 'bound', { rules: [], services: [{ host: gwA, port: servicePort }] });
    const wide = await client(a, 'wide', { rules: [{ destination: '0.0.0.0/0', protocol: 'all' }] });
    assert.deepEqual(await pings(bound, [`${gwA}:${servicePort}`, `${service.ip}:6379`]), {
      [`${gwA}:${servicePort}`]: PONG,
      [`${service.ip}:6379`]: 'timeout', // directly, at L2: dropped
    });
    assert.deepEqual(await pings(wide, [`${gwA}:${servicePort}`, `${service.ip}:6379`]), {
      [`${gwA}:${servicePort}`]: 'ECONNREFUSED',
      [`${service.ip}:6379`]: 'timeout',
    });
  });

  it('the host reaches it at 127.0.0.1; the outside cannot, a platform network can', async () => {
    assert.equal(await pingFrom(undefined, `127.0.0.1:${servicePort}`), PONG);
    assert.equal(await pingFrom(ext.netns, `${ext.prefix}.1:${servicePort}`, `${ext.prefix}.2`), 'ECONNREFUSED');
    assert.equal(await pingFrom(ext.netns, `${ext.prefix}.1:${servicePort}`, `${ext.prefix}.3`), PONG);
  });

  it('keeps its host port over recover(), which restores a flushed service check; the port stays its own', async () => {
    const chains = chainNames(a.config.iptablesChain);
    await sh('iptables', ['-w', '5', '-F', chains.serviceDestinations]);
    assert.equal(await pingFrom(ext.netns, `${ext.prefix}.1:${servicePort}`, `${ext.prefix}.2`), PONG, 'the check is what stops the outside');
    // As an older layout left it: an accept in the inbound chain.
    await sh('iptables', ['-w', '5', '-I', chains.forward, '1', '-o', a.config.network.bridge, '-j', 'ACCEPT']);
    const restarted = new RuncRuntime(a.config);
    const handles = await restarted.recover();
    assert.ok(!(await sh('iptables', ['-w', '5', '-S', chains.forward])).includes('ACCEPT'), 'the inbound chain is rewritten whole');
    assert.equal(handles.find((handle) => handle.id === service.id)?.hostPort, servicePort);
    assert.equal(await pingFrom(ext.netns, `${ext.prefix}.1:${servicePort}`, `${ext.prefix}.2`), 'ECONNREFUSED');
    const bound = (await b.runtime.recover()).find((handle) => handle.id === `${b.config.prefix}-bound`)!;
    assert.equal((await pings(bound, [`${gateway(b.config)}:${servicePort}`]))[`${gateway(b.config)}:${servicePort}`], PONG);
    await assert.rejects(
      restarted.start(a.spec(`${a.config.prefix}-twin`, { containerPort: 6379, hostPort: servicePort, service: true })),
      (error: unknown) => error instanceof RuntimeError && error.code === RuntimeErrorCode.PortInUse,
    );
  });

  it('destroy removes its DNAT and service rules', async () => {
    await a.runtime.destroy(service.id);
    const rules = (await sh('iptables', ['-w', '5', '-S'])) + (await sh('iptables', ['-w', '5', '-t', 'nat', '-S']));
    assert.ok(!rules.includes(service.id), rules);
  });
});

describe('service containers of cells with a host address (real runc, as root): DNAT\'ed on that address alone', () => {
  let scene: ServiceScene;

  before(async () => {
    // The host end of the outside veth stands for the machine's address, which both cells share.
    scene = await createServiceScene('t', (prefix) => [`${prefix}.1`]);
  });

  after(() => scene?.dispose());

  it('a sibling cell\'s container that lists it reaches it at the host address, not at its gateway; one that does not is refused', async () => {
    const { b, ext, servicePort } = scene;
    const at = `${ext.prefix}.1`;
    const address = `${at}:${servicePort}`;
    const bound = await client(b, 'bound', { rules: [], services: [{ host: `${ext.prefix}.1`, port: servicePort }] });
    const wide = await client(b, 'wide', { rules: [{ destination: '0.0.0.0/0', protocol: 'all' }] });
    assert.deepEqual(await pings(bound, [address, `${gateway(b.config)}:${servicePort}`], at), {
      [address]: PONG,
      [`${gateway(b.config)}:${servicePort}`]: 'ECONNREFUSED', // not DNAT'ed there: the host itself, closed
    });
    assert.deepEqual(await pings(wide, [address], at), { [address]: 'ECONNREFUSED' });
  });

  it('the outside is refused at the host address, a platform network admitted', async () => {
    const { ext, servicePort } = scene;
    assert.equal(await pingFrom(ext.netns, `${ext.prefix}.1:${servicePort}`, `${ext.prefix}.2`), 'ECONNREFUSED');
    assert.equal(await pingFrom(ext.netns, `${ext.prefix}.1:${servicePort}`, `${ext.prefix}.3`), PONG);
  });
});
