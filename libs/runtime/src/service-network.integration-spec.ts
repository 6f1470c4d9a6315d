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
const portBase = 20000 + randomInt(0, 200) * 200;
const PONG = '+PONG';

describe('service containers (real runc, as root): reachable by the containers that list them, and by the host and the platform alone', () => {
  /** The service's runtime (cell A) and a sibling on the same machine (cell B), both with loopback host addresses. */
  let a: TestRuntime;
  let b: TestRuntime;
  let service: ContainerHandle;
  /** Outside both runtimes' ranges, as a cell's service range is. */
  const servicePort = portBase + 150;
  /** The test's outside host: a netns behind a veth; .2 is nobody, .3 is listed as a platform network. */
  const ext = { netns: `ps${suffix}-x`, veth: `ps${suffix}x`, prefix: `10.${randomInt(200, 250)}.${randomInt(1, 250)}` };
  const gateway = (config: RuncRuntimeConfig) => config.network.subnet.replace(/\.0\/24$/, '.1');

  const loopbackCell = (config: RuncRuntimeConfig): RuncRuntimeConfig => ({
    ...config,
    network: { ...config.network, hostAddresses: ['127.0.0.1'], platformNetworks: [`${ext.prefix}.3`] },
  });

  /** A client container on `fixture` with `egress`, started and answering. */
  async function client(fixture: TestRuntime, name: string, egress: ContainerEgress): Promise<ContainerHandle> {
    const handle = await fixture.runtime.start(fixture.spec(`${fixture.config.prefix}-${name}`, { command: ['/usr/bin/node', '/app/client.js'], containerPort: 8080, egress }));
    await pings(handle, []);
    return handle;
  }

  /** What `handle` sees when it PINGs each target. */
  function pings(handle: ContainerHandle, targets: string[]): Promise<Record<string, string>> {
    return pollUntil(
      `client ${handle.id} to answer`,
      async () => (await (await fetch(`http://127.0.0.1:${handle.hostPort}/ping?targets=${targets.join(',')}`, { signal: AbortSignal.timeout(10_000) })).json()) as Record<string, string>,
      { timeoutMs: 15_000 },
    );
  }

  /** One PING from this host (no netns) or from the outside namespace. */
  async function pingFrom(netns: string | undefined, target: string, localAddress?: string): Promise<string> {
    const script = `(${PING_FN})(process.argv[1], process.argv[2]).then((r) => console.log(r))`;
    const command = [process.execPath, '-e', script, target, ...(localAddress ? [localAddress] : [])];
    return (await (netns ? sh('ip', ['netns', 'exec', netns, ...command]) : sh(command[0]!, command.slice(1)))).trim();
  }

  before(async () => {
    const appFiles = { 'client.js': CLIENT_JS };
    const defaults: Partial<ContainerSpec> = { pidsLimit: 64 };
    a = await createTestRuntime({ name: `sa${suffix}`, portBase, appFiles, defaults, configure: loopbackCell });
    b = await createTestRuntime({
      name: `sb${suffix}`,
      portBase: portBase + 50,
      appFiles,
      defaults,
      configure: (config) => {
        const cell = loopbackCell(config);
        // Another /24 than A's (both are random).
        if (cell.network.subnet === a.config.network.subnet) cell.network.subnet = cell.network.subnet.replace(/^10\.(\d+)/, (_, n) => `10.${Number(n) + 1}`);
        return cell;
      },
    });
    // B's chains first: A's then sit above them in FORWARD, the order in which an accept in A's
    // inbound chain would skip B's egress filter.
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

    service = await a.runtime.start(a.spec(`sa${suffix}-redis`, {
      command: ['/usr/bin/redis-server', '--port', '6379', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', '/tmp'],
      containerPort: 6379,
      hostPort: servicePort,
      service: true,
    }));
    await pollUntil('the service to answer the host', async () => {
      const answer = await pingFrom(undefined, `127.0.0.1:${servicePort}`);
      if (answer !== PONG) throw new Error(answer);
      return true;
    }, { timeoutMs: 15_000 });
  });

  after(async () => {
    const errors: unknown[] = [];
    for (const fixture of [a, b]) await fixture?.dispose().catch((error: unknown) => errors.push(error));
    await sh('ip', ['link', 'del', 'dev', ext.veth]).catch(() => undefined);
    await sh('ip', ['netns', 'del', ext.netns]).catch(() => undefined);
    if (errors.length) throw new AggregateError(errors, 'cleanup failed');
  });

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
      restarted.start(a.spec(`sa${suffix}-twin`, { containerPort: 6379, hostPort: servicePort, service: true })),
      (error: unknown) => error instanceof RuntimeError && error.code === RuntimeErrorCode.PortInUse,
    );
  });

  it('destroy removes its DNAT and service rules', async () => {
    await a.runtime.destroy(service.id);
    const rules = (await sh('iptables', ['-w', '5', '-S'])) + (await sh('iptables', ['-w', '5', '-t', 'nat', '-S']));
    assert.ok(!rules.includes(service.id), rules);
  });
});
