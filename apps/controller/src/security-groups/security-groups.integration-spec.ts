import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CellJobName, securityGroupViewSchema } from '@paas/contracts';
import { adminActor, startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { startCellAgent, type CellAgentProcess } from '../testing/cell-agent';
import { cellJobs } from '../testing/cell-jobs';
import { pushThroughHook } from '../testing/push';
import { MINIMAL_SOURCE, tarOf } from '../testing/source-tar';
import { createOrg, createSpace, createUser, expectStatus, grant, type TestUser } from '../testing/tenancy-fixtures';
import { pollUntil } from '@paas/local-services';

const EXTERNAL = { protocol: 'tcp', destination: '10.77.0.2', ports: '5432' };

describe('security groups API (platform admins) and the rules every job carries', () => {
  let h: ControllerHarness;
  let cell: CellAgentProcess;
  /** The jobs of one kind the cell was sent, with the fields these tests read. */
  const jobs = async (name: CellJobName) =>
    (await cellJobs(h, cell.id, name)).map((j) => j.data as { appName: string; instanceId?: string; egress?: Array<{ destination: string }> });
  let spaceA: string;
  let spaceB: string;
  let dev: TestUser;

  before(async () => {
    h = await startControllerHarness();
    cell = await startCellAgent(h, 'fake-sg', { maxContainers: 20 });
    const org = await createOrg(h, 'sg-org');
    spaceA = await createSpace(h, org, 'a');
    spaceB = await createSpace(h, org, 'b');
    dev = await createUser(h, 'sg-dev');
    await grant(h, spaceA, dev, 'developer');
  });

  after(async () => {
    await cell?.stop();
    await h?.stop();
  });

  test('the platform defaults are public_networks and dns, for running and staging', async () => {
    const groups = expectStatus(await h.call('GET', '/v1/security-groups'), 200).body.resources;
    for (const g of groups) assert.ok(securityGroupViewSchema.safeParse(g).success, JSON.stringify(g));
    const byName = new Map(groups.map((g: { name: string }) => [g.name, g]));
    for (const name of ['public_networks', 'dns']) {
      assert.deepEqual((byName.get(name) as { globally_enabled: unknown }).globally_enabled, { running: true, staging: true }, name);
    }
    const publicRanges = (byName.get('public_networks') as { rules: Array<{ destination: string }> }).rules.map((r) => r.destination);
    assert.ok(!publicRanges.some((r) => r.startsWith('10.') || r.startsWith('192.168.') || r.startsWith('169.254.')), publicRanges.join(' '));
  });

  test('bad rules get a 400 naming the field and the fix; nothing is stored', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ name: 'bad', rules: [{ protocol: 'tcp', destination: 'db.internal', ports: '5432' }] }, /rules\.0\.destination: destination "db.internal" is not an IPv4 address, CIDR/],
      [{ name: 'bad', rules: [{ protocol: 'tcp', destination: '10.0.0.0/40' }] }, /prefix length outside 0-32/],
      [{ name: 'bad', rules: [{ protocol: 'tcp', destination: '10.0.0.9-10.0.0.1' }] }, /ends before it starts/],
      [{ name: 'bad', rules: [{ protocol: 'tcp', destination: '10.0.0.1', ports: '70000' }] }, /rules\.0\.ports: .*"70000" is not a port/],
      [{ name: 'bad', rules: [{ protocol: 'tcp', destination: '10.0.0.1', ports: '443;22' }] }, /is not a port/],
      [{ name: 'bad', rules: [{ protocol: 'icmp', destination: '10.0.0.1', ports: '80' }] }, /ports apply to tcp and udp only/],
      [{ name: 'bad', rules: [{ protocol: 'sctp', destination: '10.0.0.1' }] }, /protocol must be one of tcp, udp, icmp, all/],
      [{ name: 'bad', rules: [{ protocol: 'tcp', destination: '10.0.0.1', log: true }] }, /rules\.0/],
      [{ name: 'bad', rules: Array.from({ length: 101 }, () => EXTERNAL) }, /at most 100 rules/],
      [{ name: 'has space', rules: [] }, /name: a security group name is/],
      [{ rules: [] }, /name is required/],
    ];
    for (const [body, message] of cases) {
      const res = expectStatus(await h.call('POST', '/v1/security-groups', body), 400, JSON.stringify(body));
      assert.match(res.body.error.message, message);
    }
    const names = expectStatus(await h.call('GET', '/v1/security-groups?names=bad'), 200).body.resources;
    assert.deepEqual(names, []);
  });

  test('only platform admins create, change, bind and delete groups (403 naming the rule)', async () => {
    const create = await h.call('POST', '/v1/security-groups', { name: 'mine', rules: [{ protocol: 'all', destination: '0.0.0.0/0' }] }, dev.token);
    expectStatus(create, 403);
    assert.match(create.body.error.message, /creating a security group needs a platform admin/);
    const made = expectStatus(await h.call('POST', '/v1/security-groups', { name: 'db-a', rules: [EXTERNAL] }), 201).body;
    expectStatus(await h.call('POST', '/v1/security-groups', { name: 'db-a', rules: [] }), 409);
    // The developer cannot widen a default, bind the group to its own space, or delete it.
    expectStatus(await h.call('PATCH', '/v1/security-groups/public_networks', { rules: [{ protocol: 'all', destination: '0.0.0.0/0' }] }, dev.token), 403);
    expectStatus(await h.call('POST', '/v1/security-groups/dns/running-spaces', { space_ids: [spaceA] }, dev.token), 403);
    expectStatus(await h.call('DELETE', '/v1/security-groups/dns', undefined, dev.token), 403);
    // An unbound group is invisible to a non-admin; the defaults are visible.
    expectStatus(await h.call('GET', `/v1/security-groups/${made.id}`, undefined, dev.token), 404);
    const seen = expectStatus(await h.call('GET', '/v1/security-groups', undefined, dev.token), 200).body.resources.map((g: { name: string }) => g.name);
    assert.deepEqual(seen.sort(), ['dns', 'public_networks']);
    expectStatus(await h.call('GET', '/v1/security-groups', undefined, null), 401);
  });

  test('a binding puts its rules into the jobs of its space only: running into instances, staging into builds', async () => {
    expectStatus(await h.call('POST', '/v1/security-groups/db-a/running-spaces', { space_ids: [spaceA] }), 200);
    expectStatus(await h.call('POST', '/v1/security-groups', { name: 'mirror', rules: [{ protocol: 'tcp', destination: '10.77.0.9', ports: '4873' }] }), 201);
    const bound = expectStatus(await h.call('POST', '/v1/security-groups/mirror/staging-spaces', { space_ids: [spaceA] }), 200).body;
    assert.deepEqual(bound.staging_space_ids, [spaceA]);
    assert.deepEqual(bound.running_space_ids, []);
    expectStatus(await h.call('POST', '/v1/security-groups/mirror/staging-spaces', { space_ids: ['00000000-0000-4000-8000-000000000000'] }), 404);

    // The developer now sees the groups bound to its space.
    const seen = expectStatus(await h.call('GET', '/v1/security-groups', undefined, dev.token), 200).body.resources.map((g: { name: string }) => g.name);
    assert.deepEqual(seen.sort(), ['db-a', 'dns', 'mirror', 'public_networks']);

    // Each push also runs a release command: a task, which runs with the running rules.
    const source = await tarOf({ ...MINIMAL_SOURCE, Procfile: 'web: node server.js\nrelease: echo migrated\n' });
    for (const [name, space] of [['in-a', spaceA], ['in-b', spaceB]] as const) {
      expectStatus(await h.call('POST', '/v1/apps', { name, space_id: space, no_route: true }), 201);
      const push = await pushThroughHook(h.url, h.internalToken, name, await adminActor(h), source);
      assert.ok(push.ok, push.text);
    }
    const [starts, stages, tasks] = await Promise.all([jobs(CellJobName.StartInstance), jobs(CellJobName.Stage), jobs(CellJobName.RunTask)]);
    const startOf = (app: string) => starts.find((j) => j.appName === app)!;
    const stageOf = (app: string) => stages.find((j) => j.appName === app)!;
    const destinations = (rules: Array<{ destination: string }> | undefined) => (rules ?? []).map((r) => r.destination);

    assert.ok(destinations(startOf('in-a').egress).includes('10.77.0.2'), 'space A runs with db-a');
    assert.ok(!destinations(startOf('in-a').egress).includes('10.77.0.9'), 'the staging-only group is not in a running job');
    assert.ok(destinations(startOf('in-a').egress).includes('0.0.0.0-9.255.255.255'), 'the running defaults are in it');
    assert.ok(destinations(stageOf('in-a').egress).includes('10.77.0.9'), 'space A stages with mirror');
    assert.ok(!destinations(stageOf('in-a').egress).includes('10.77.0.2'), 'the running-only group is not in a stage job');
    assert.ok(!destinations(startOf('in-b').egress).includes('10.77.0.2'), 'space B does not get space A\'s group');
    const taskOf = (app: string) => tasks.find((j) => j.appName === app)!;
    assert.ok(destinations(taskOf('in-a').egress).includes('10.77.0.2'), 'the release task of space A runs with db-a');
    assert.ok(!destinations(taskOf('in-b').egress).includes('10.77.0.2'));
    assert.ok(!destinations(stageOf('in-b').egress).includes('10.77.0.9'));
  });

  test('unbinding and changing the defaults reach the next started instance; the audit log records each change', async () => {
    expectStatus(await h.call('DELETE', `/v1/security-groups/db-a/running-spaces/${spaceA}`), 204);
    expectStatus(await h.call('DELETE', `/v1/security-groups/db-a/running-spaces/${spaceA}`), 404);
    expectStatus(await h.call('PATCH', '/v1/security-groups/public_networks', { globally_enabled: { running: false } }), 200);
    const before = new Set((await jobs(CellJobName.StartInstance)).map((j) => j.instanceId));
    expectStatus(await h.call('POST', '/v1/apps/in-a/processes/web/actions/scale', { instances: 2 }), 202);
    const fresh = await pollUntil('a second instance of in-a', async () => (await jobs(CellJobName.StartInstance)).find((j) => !before.has(j.instanceId) && j.appName === 'in-a'), {
      timeoutMs: 15_000,
    }).catch(() => undefined);
    assert.ok(fresh, 'a second instance started');
    assert.deepEqual(fresh.egress?.map((r) => r.destination).sort(), ['0.0.0.0/0', '0.0.0.0/0'], 'only dns is left (tcp and udp 53)');
    expectStatus(await h.call('PATCH', '/v1/security-groups/public_networks', { globally_enabled: { running: true } }), 200);

    expectStatus(await h.call('DELETE', '/v1/security-groups/mirror'), 204);
    expectStatus(await h.call('GET', '/v1/security-groups/mirror'), 404);
    const events = expectStatus(await h.call('GET', '/v1/events?types=security-group-created,security-group-bound,security-group-unbound,security-group-updated,security-group-deleted&per_page=50'), 200).body.resources;
    const kinds = new Set(events.map((e: { type: string }) => e.type));
    for (const kind of ['security-group-created', 'security-group-bound', 'security-group-unbound', 'security-group-updated', 'security-group-deleted']) assert.ok(kinds.has(kind), kind);
  });
});
