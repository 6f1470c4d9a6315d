import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ContainerHandle } from './container-runtime';
import { createTestRuntime, type TestRuntime } from './integration-test-support';
import { macForIp } from './network';
import type { RuncRuntime, RuncRuntimeConfig } from './runc-runtime';

const execFileAsync = promisify(execFile);
const sh = async (file: string, args: string[]) => (await execFileAsync(file, args, { encoding: 'utf8' })).stdout;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const SERVER_JS = `
require('http').createServer((req, res) => res.end(process.env.NAME)).listen(Number(process.env.PORT), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

const suffix = randomBytes(2).toString('hex');
const portBase = 20000 + randomInt(0, 400) * 100;

/** One TCP connect to 127.0.0.1:port: 'open', 'refused' (the host reached the netns) or 'no-answer'. */
function connectOnce(port: number, timeoutMs: number): Promise<'open' | 'refused' | 'no-answer'> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: timeoutMs });
    socket.once('connect', () => { socket.destroy(); resolve('open'); });
    socket.once('timeout', () => { socket.destroy(); resolve('no-answer'); });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'no-answer'));
  });
}

/**
 * Connects until the app accepts (it may still be booting: a refusal is an answer), at most
 * `attempts` times; returns every outcome. A stale neighbour entry shows as 'no-answer' (the SYN
 * goes to a MAC nobody has).
 */
async function connectUntilOpen(port: number, attempts = 40): Promise<string[]> {
  const outcomes: string[] = [];
  for (let i = 0; i < attempts; i++) {
    const outcome = await connectOnce(port, 1500);
    outcomes.push(outcome);
    if (outcome === 'open') return outcomes;
    if (outcome === 'refused') await sleep(100);
  }
  return outcomes;
}

const macOf = async (netns: string, device: string) => /link\/ether ([0-9a-f:]{17})/.exec(await sh('ip', ['-n', netns, '-o', 'link', 'show', 'dev', device]))?.[1];
const bridgeMac = async (bridge: string) => /link\/ether ([0-9a-f:]{17})/.exec(await sh('ip', ['-o', 'link', 'show', 'dev', bridge]))?.[1];
/** The MAC the host's neighbour table holds for `ip` on the bridge, if any. */
const neighbourMac = async (ip: string, bridge: string) => /lladdr ([0-9a-f:]{17})/.exec(await sh('ip', ['neigh', 'show', 'to', ip, 'dev', bridge]))?.[1];

describe('a container that reuses a destroyed one\'s address (real runc, as root)', () => {
  let fixture: TestRuntime;
  let config: RuncRuntimeConfig;
  let runtime: RuncRuntime;
  const spec = (id: string) => fixture.spec(id, { env: { PORT: '8080', NAME: id } });

  before(async () => {
    fixture = await createTestRuntime({
      name: `pr${suffix}`,
      portBase,
      appFiles: { 'server.js': SERVER_JS },
      defaults: { command: ['/usr/bin/node', '/app/server.js'], containerPort: 8080 },
    });
    ({ config, runtime } = fixture);
  });

  after(() => fixture.dispose());

  it('is reached by the host at once: its first connects are answered and the neighbour entry holds its MAC', async () => {
    const bridge = config.network.bridge;
    // A neighbour stays on the bridge throughout, as on a real cell.
    const neighbour = await runtime.start(spec(`pr${suffix}-keep`));
    const first: ContainerHandle = await runtime.start(spec(`pr${suffix}-first`));
    assert.deepEqual(await connectUntilOpen(first.hostPort!).then((o) => o.at(-1)), 'open');
    const firstMac = await macOf(first.id, 'eth0');
    assert.equal(await neighbourMac(first.ip, bridge), firstMac, 'the host learnt the first container\'s MAC');

    await runtime.destroy(first.id);
    const second = await runtime.start(spec(`pr${suffix}-second`));
    assert.equal(second.ip, first.ip, 'the freed address is reused (lowest free)');
    const outcomes = await connectUntilOpen(second.hostPort!);
    assert.equal(outcomes.at(-1), 'open', `the second container answers (connects: ${outcomes.join(', ')})`);
    assert.ok(!outcomes.includes('no-answer'), `no connect went unanswered (connects: ${outcomes.join(', ')})`);
    const secondMac = await macOf(second.id, 'eth0');
    assert.equal(await neighbourMac(second.ip, bridge), secondMac, 'the host\'s neighbour entry holds the new container\'s MAC');
    assert.equal(secondMac, firstMac, 'a reused address keeps its MAC, so every holder of an entry stays right');
    assert.equal(secondMac, macForIp(second.ip));
    await runtime.destroy(neighbour.id);
    await runtime.destroy(second.id);
  });

  it('keeps the bridge\'s MAC while containers come and go, so containers\' gateway entries stay right', async () => {
    const bridge = config.network.bridge;
    const gateway = config.network.subnet.replace(/\.0\/24$/, '.1');
    const before = await bridgeMac(bridge);
    const containers: ContainerHandle[] = [];
    for (let i = 0; i < 3; i++) containers.push(await runtime.start(spec(`pr${suffix}-b${i}`)));
    assert.equal(await bridgeMac(bridge), before);
    for (const container of containers) await runtime.destroy(container.id);
    assert.equal(await bridgeMac(bridge), before);
    assert.equal(before, macForIp(gateway));
  });
});
