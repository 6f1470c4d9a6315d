/**
 * Cells on other hosts: three simulated hosts (network namespaces with an address each, on a
 * bridge of this test), one cell on each in zones z1-z3; the controller, router, Redis and
 * Postgres on this host. An app pushed with the real git client and scaled to three instances runs
 * one instance per host, and the router reaches all three at the hosts' addresses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, viaRouter } from './test-platform';
import { ROOT, commitDir, createSimulatedHosts, git, hostLeftovers, platformTag, removeSimulatedHosts, simulatedHostLeftovers, startIsolatedPlatform, stopIsolatedPlatform, type SimulatedHosts, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';

interface InstanceView {
  index: number;
  state: string;
  cell_id: string;
  address: string | null;
}

describe('cells on other hosts', () => {
  const tag = platformTag();
  const zones = ['z1', 'z2', 'z3'];
  let hosts: SimulatedHosts | undefined;
  let platform: TestPlatform | undefined;
  let work: string | undefined;
  const started = Date.now();

  const ready = (): { platform: TestPlatform; hosts: SimulatedHosts } => {
    assert.ok(platform && hosts, 'the platform and the simulated hosts are up');
    return { platform, hosts };
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-work-'));
    hosts = await createSimulatedHosts(tag, 3);
    platform = await startIsolatedPlatform(3, { tag, simulatedHosts: hosts, zones });
    console.log(`platform with 3 cells on 3 simulated hosts (${hosts.subnet}) up in ${Date.now() - started} ms`);
  });

  after(async () => {
    const stopStarted = Date.now();
    const problems: string[] = [];
    try {
      // Cells stop first, each removing its containers, bridge and chains inside its own host.
      await stopIsolatedPlatform(platform);
    } catch (error) {
      problems.push(`stopping the platform: ${(error as Error).message}`);
    }
    for (const host of hosts?.hosts ?? []) {
      try {
        problems.push(...(await simulatedHostLeftovers(host, tag)));
      } catch (error) {
        problems.push(`inspecting ${host.name}: ${(error as Error).message}`);
      }
    }
    try {
      await removeSimulatedHosts(hosts);
    } catch (error) {
      problems.push(`removing the simulated hosts: ${(error as Error).message}`);
    }
    if (work) await rm(work, { recursive: true, force: true });
    problems.push(...(await hostLeftovers(tag)));
    console.log(`platform stopped and hosts removed in ${Date.now() - stopStarted} ms`);
    assert.deepEqual(problems, [], 'no container, bridge, veth, netns or iptables rule is left, on the hosts or here');
  });

  test('each cell announces itself from its own host, address and zone', async () => {
    const { platform, hosts } = ready();
    const cells = await api(platform, 'GET', '/v1/cells');
    assert.equal(cells.status, 200);
    const seen = (cells.json.resources as Array<{ id: string; address: string; zone: string }>)
      .map((c) => `${c.id} ${c.address} ${c.zone}`)
      .sort();
    assert.deepEqual(
      seen,
      hosts.hosts.map((h, i) => `cell-${i + 1} ${h.address} ${zones[i]}`),
    );
  });

  test('an app scaled to three instances runs one on each host and answers from all three through one router', async () => {
    const { platform, hosts } = ready();
    assert.ok(work);
    const name = 'spread';
    assert.equal((await api(platform, 'POST', '/v1/apps', { name })).status, 201);
    const dir = join(work, name);
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await commitDir(dir);
    // The controller serves on the hosts' gateway address (cells download droplets from it).
    const remote = new URL(`/git/${name}.git`, platform.apiUrl);
    remote.username = 'paas';
    remote.password = platform.adminToken;
    const pushStarted = Date.now();
    const push = await git(['push', remote.toString(), 'main'], dir);
    assert.equal(push.code, 0, push.output);
    assert.match(push.output, /remote: .*is live at/);
    console.log(`git push to live in ${Date.now() - pushStarted} ms`);

    const scaleStarted = Date.now();
    const scaled = await api(platform, 'POST', `/v1/apps/${name}/processes/web/actions/scale`, { instances: 3 });
    assert.equal(scaled.status, 202, JSON.stringify(scaled.json));
    const running = await pollUntil(
      'three RUNNING instances',
      async () => {
        const r = await api(platform, 'GET', `/v1/apps/${name}/instances`);
        const all = (r.json?.resources ?? []) as InstanceView[];
        const up = all.filter((i) => i.state === 'RUNNING');
        return up.length === 3 && all.length === 3 ? up : undefined;
      },
      { timeoutMs: 120_000 },
    );
    console.log(`scaled to 3 RUNNING in ${Date.now() - scaleStarted} ms`);

    assert.deepEqual(running.map((i) => i.index).sort(), [0, 1, 2]);
    assert.equal(new Set(running.map((i) => i.cell_id)).size, 3, `three different cells: ${running.map((i) => i.cell_id).join(', ')}`);
    const addressesOfInstances = running.map((i) => {
      assert.ok(i.address, `instance ${i.index} has an address`);
      return i.address.split(':')[0];
    });
    assert.deepEqual(addressesOfInstances.sort(), hosts.hosts.map((h) => h.address).sort(), 'each instance runs at its host address');
    for (const instance of running) {
      const cellNumber = Number(instance.cell_id.replace('cell-', ''));
      assert.equal(instance.address?.split(':')[0], hosts.hosts[cellNumber - 1].address, `${instance.cell_id} runs on its own host`);
    }

    // Each cell's bridge and chains live inside its own host, none in this namespace.
    for (const [i, h] of hosts.hosts.entries()) {
      const held = await simulatedHostLeftovers(h, tag);
      assert.ok(held.includes(`${h.name} link: ${tag}-c${i + 1}`), `${h.name} holds cell-${i + 1}'s bridge: ${held.join(', ')}`);
      assert.ok(held.some((l) => l.includes(`${tag.toUpperCase()}-C${i + 1}-DNAT`)), `${h.name} holds cell-${i + 1}'s DNAT chain`);
    }
    const here = await hostLeftovers(tag);
    assert.deepEqual(here.filter((l) => l.startsWith('link') && l.includes(`${tag}-c`)), [], 'no cell bridge in this namespace');
    assert.deepEqual(here.filter((l) => l.startsWith('iptables')), [], 'no cell chain in this namespace');

    // Through the one router on this host: every instance answers, at its host's address.
    const host = `${name}.${platform.appsDomain}`;
    const answered = new Set<string>();
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < 300 && answered.size < 3 && Date.now() < deadline; i++) {
      const r = await viaRouter(platform, host).catch(() => undefined);
      const match = r?.status === 200 ? /Hello from spread instance (\d+)/.exec(r.text) : null;
      if (match) answered.add(match[1]);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual([...answered].sort(), ['0', '1', '2'], 'all three instances answer through the router');
  });
});
