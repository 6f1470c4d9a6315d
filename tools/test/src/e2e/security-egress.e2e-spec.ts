/**
 * Issue 12, egress policy, as the second tenant meets it: a pushed app probes every platform port
 * it can find (the router's admin port, the API, Redis, Postgres, the cells' metrics ports, on
 * every cell gateway) and another tenant's container (its address and its host port), and finds
 * them refused; the router's public port stays open. A simulated external host (a network
 * namespace of this test) is reached only after a platform admin binds a security group to the
 * app's space and the app restarts, and never by the other tenant's app.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  commitDir,
  createSimulatedHosts,
  git,
  platformTag,
  removeSimulatedHosts,
  startIsolatedPlatform,
  stopIsolatedPlatform,
  writeFiles,
  type SimulatedHosts,
  type TestPlatform,
} from '@paas/test-platform';
import { freePort } from '@paas/local-services';
import { adminCli, api, viaRouter } from './test-platform';
import { PROBE_SERVER } from './probe-app';
import { pollUntil } from '@paas/local-services';

const LISTENER = "const net = require('net'); net.createServer((s) => s.end()).listen(Number(process.argv[1]), '0.0.0.0', () => console.log('listening'));";

describe('egress policy: a tenant app reaches nothing of the platform until a security group allows it', () => {
  let platform: TestPlatform;
  let hosts: SimulatedHosts | undefined;
  let listener: ChildProcess | undefined;
  let work: string;
  /** The admin port of each router process. */
  let routerAdminPorts: number[];
  let spaceA: string;
  let spaceB: string;
  const externalPort = 47_000 + Math.floor(Math.random() * 1000);
  const host = (name: string) => `${name}.${platform.appsDomain}`;
  const gateways = () => platform.cells.map((c) => c.subnet.replace(/\.0\/24$/, '.1'));
  const portOf = (url: string) => Number(new URL(url).port);

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the app's JSON answers
  async function ask(name: string, path: string): Promise<any> {
    const r = await viaRouter(platform, host(name), path);
    assert.equal(r.status, 200, `${name}${path}: ${r.status} ${r.text.slice(0, 300)}`);
    return JSON.parse(r.text);
  }

  async function pushProbeApp(name: string, spaceId: string): Promise<void> {
    const created = await api(platform, 'POST', '/v1/apps', { name, space_id: spaceId });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const dir = join(work, name);
    await writeFiles(dir, { Procfile: 'web: node server.js\n', 'server.js': PROBE_SERVER });
    await commitDir(dir);
    const pushed = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${name}.git`, 'main'], dir);
    assert.equal(pushed.code, 0, pushed.output);
  }

  const paas = (args: string[]) => adminCli(platform, work).paas(args);
  const ok = (args: string[]) => adminCli(platform, work).ok(args);

  async function instanceIds(name: string): Promise<string[]> {
    const list = (await api(platform, 'GET', `/v1/apps/${name}/instances`)).json.resources as Array<{ instance_id: string; state: string }>;
    return list.filter((i) => i.state === 'RUNNING').map((i) => i.instance_id);
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-egress-'));
    routerAdminPorts = [await freePort(), await freePort()];
    const tag = platformTag();
    platform = await startIsolatedPlatform(2, { tag, routerProcesses: 2, routerAdminPorts });
    hosts = await createSimulatedHosts(`${tag}x`, 1);
    const proc = spawn('ip', ['netns', 'exec', hosts.hosts[0]!.netns, process.execPath, '-e', LISTENER, String(externalPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    listener = proc;
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.once('data', () => resolve());
      proc.once('exit', (code) => reject(new Error(`the external host's listener exited with ${code}`)));
    });
    const org = (await api(platform, 'POST', '/v1/orgs', { name: 'tenants' })).json.id;
    spaceA = (await api(platform, 'POST', '/v1/spaces', { name: 'attacker', org_id: org })).json.id;
    spaceB = (await api(platform, 'POST', '/v1/spaces', { name: 'victim', org_id: org })).json.id;
    await pushProbeApp('attacker', spaceA);
    await pushProbeApp('victim', spaceB);
  });

  after(async () => {
    listener?.kill('SIGKILL');
    try {
      // The external host first: it is named after the platform's tag, which the leftover check looks for.
      await removeSimulatedHosts(hosts);
      const leftovers = await stopIsolatedPlatform(platform);
      assert.deepEqual(leftovers, [], 'the platform leaves nothing behind');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  test('the router admin port, the API, Redis, Postgres, metrics and another app are refused; the router is not', async () => {
    const victimIp = (await ask('victim', '/whoami')).ip as string;
    assert.match(victimIp, /^10\./);
    const victimAddress = ((await api(platform, 'GET', '/v1/apps/victim/instances')).json.resources[0].address as string).split(':');
    const platformPorts = [
      ...routerAdminPorts,
      platform.controllerPort,
      portOf(platform.redisUrl),
      portOf(platform.databaseUrl),
      ...platform.cells.map((c) => c.metricsPort!),
    ];
    const targets = [
      ...gateways().flatMap((gw) => [...platformPorts, Number(victimAddress[1])].map((p) => `${gw}:${p}`)),
      `${victimIp}:8080`,
      ...routerAdminPorts.map((p) => `127.0.0.1:${p}`),
      `${hosts!.hosts[0]!.address}:${externalPort}`,
      `${hosts!.gateway}:${platform.controllerPort}`,
    ];
    const results = await ask('attacker', `/probe?targets=${targets.join(',')}`);
    const open = Object.entries(results).filter(([, r]) => r === 'open');
    assert.deepEqual(open, [], JSON.stringify(results, null, 1));
    // The platform's public entrance stays open (CELL_ROUTER_ADDRESS), so the probe itself works.
    const router = await ask('attacker', `/probe?targets=${gateways().map((gw) => `${gw}:${platform.routerPort}`).join(',')}`);
    assert.ok(Object.values(router).includes('open'), JSON.stringify(router));
  });

  test('a security group bound to its space opens the external host once the app restarts, for that space only', async () => {
    const external = `${hosts!.hosts[0]!.address}:${externalPort}`;
    // The platform admin opens it with the CLI (tenants cannot: see the API's integration tests).
    const rulesFile = join(work, 'partner-api.json');
    await writeFile(rulesFile, JSON.stringify([{ protocol: 'tcp', destination: hosts!.hosts[0]!.address, ports: '22,80' }, { protocol: 'tcp', destination: 'partner.example' }]));
    const bad = await paas(['create-security-group', 'partner-api', '--rules', rulesFile]);
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stderr, /partner-api\.json: rules\[1\]\.destination: destination "partner\.example" is not an IPv4 address/);
    await writeFile(rulesFile, JSON.stringify([{ protocol: 'tcp', destination: hosts!.hosts[0]!.address, ports: String(externalPort), description: 'the partner API' }]));
    assert.match(await ok(['create-security-group', 'partner-api', '--rules', rulesFile]), /created security group partner-api with 1 rule/);
    assert.match(await ok(['bind-security-group', 'partner-api', '--space', 'attacker', '-o', 'tenants']), /bound security group partner-api to space tenants\/attacker for running: restart its apps/);
    const shown = await ok(['security-group', 'partner-api']);
    assert.match(shown, /running:\s+tenants\/attacker/);
    assert.match(shown, new RegExp(`tcp\\s+${hosts!.hosts[0]!.address.replace(/\./g, '\\.')}\\s+${externalPort}\\s+the partner API`));
    assert.match(await ok(['security-groups']), /partner-api\s+1\s+1 space\(s\)\s+0 space\(s\)/);
    // Bindings apply when a container starts (as on Cloud Foundry): the running instance is unchanged.
    assert.equal((await ask('attacker', `/probe?targets=${external}`))[external], 'ECONNREFUSED');

    const old = await instanceIds('attacker');
    assert.equal((await api(platform, 'POST', '/v1/apps/attacker/actions/restart')).status, 202);
    await pollUntil('the restarted attacker instance', async () => {
      const now = await instanceIds('attacker');
      return now.length > 0 && now.every((id) => !old.includes(id));
    }, { timeoutMs: 90_000 });
    const after = await pollUntil('the restarted app to answer', async () => {
      const r = await viaRouter(platform, host('attacker'), `/probe?targets=${external},${external.replace(/:\d+$/, ':22')},${gateways()[0]}:${routerAdminPorts[0]}`);
      return r.status === 200 ? JSON.parse(r.text) : undefined;
    }, { timeoutMs: 60_000 });
    assert.deepEqual(after, {
      [external]: 'open',
      [external.replace(/:\d+$/, ':22')]: 'ECONNREFUSED',
      [`${gateways()[0]}:${routerAdminPorts[0]}`]: 'ECONNREFUSED',
    });

    // The other tenant, restarted too, still cannot reach it.
    assert.equal((await api(platform, 'POST', '/v1/apps/victim/actions/restart')).status, 202);
    const victim = await pollUntil('the restarted victim to answer', async () => {
      const r = await viaRouter(platform, host('victim'), `/probe?targets=${external}`);
      return r.status === 200 ? JSON.parse(r.text) : undefined;
    }, { timeoutMs: 90_000 });
    assert.equal(victim[external], 'ECONNREFUSED');
  });
});
