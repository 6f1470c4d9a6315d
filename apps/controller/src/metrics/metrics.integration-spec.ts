/**
 * Usage in the instance views and the controller's Prometheus /metrics, against a real Postgres
 * and Redis with the real cell agent on the fake runtime (testing/cell-agent.ts), whose usage
 * sampler writes into the instance records what the fake containers use (apps/cell/src/fake-behaviours.ts:
 * 250 millicores busy, 64 MiB of memory growing by 1 KiB a ms, 12 MiB of disk).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { instanceListSchema, instanceViewSchema } from '@paas/contracts';
import { adminActor, startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { startCellAgent, type CellAgentProcess } from '../testing/cell-agent';
import { pushThroughHook } from '../testing/push';
import { pollUntil as until } from '@paas/local-services';

/** The value of the first series `name{...}` whose labels include `labels`, from Prometheus text. */
function seriesValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('instance usage in the API, and the controller /metrics', () => {
  let h: ControllerHarness;
  let cell: CellAgentProcess;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API bodies are checked field by field
  const instances = async (path: string): Promise<any[]> => {
    const res = await h.call('GET', path);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const parsed = instanceListSchema.safeParse(res.body);
    assert.ok(parsed.success, `the answer is exactly the shared contract: ${JSON.stringify(parsed.error?.issues)}`);
    return res.body.resources;
  };

  before(async () => {
    h = await startControllerHarness();
    // Two containers at most: a third instance stays unplaced.
    cell = await startCellAgent(h, 'fake-m', { maxContainers: 2, usageIntervalMs: 1_000 });
  });

  after(async () => {
    await cell?.stop();
    await h?.stop();
  });

  test('an instance shows its limits at once and the usage its cell reported once sampled', async () => {
    assert.equal((await h.call('POST', '/v1/apps', { name: 'metered' })).status, 201);
    const push = await pushThroughHook(h.url, h.internalToken, 'metered', await adminActor(h));
    assert.ok(push.ok, push.text);
    const [first] = await instances('/v1/apps/metered/instances');
    assert.equal(first.state, 'RUNNING');
    const webProcess = (await h.call('GET', '/v1/apps/metered/processes/web')).body;
    assert.equal(first.memory_limit_mb, webProcess.memory_mb);
    assert.equal(first.disk_limit_mb, webProcess.disk_mb);
    assert.equal(first.usage, null, 'no usage before the first sample');

    // The cell's sampler records usage from its second pass (CPU % needs two readings).
    const sampled = await until('the first usage sample', async () => (await instances('/v1/apps/metered/instances'))[0].usage ?? undefined);
    const MiB = 1024 * 1024;
    assert.ok(sampled.cpu_percent >= 20 && sampled.cpu_percent <= 30, `about 25 % (250 millicores busy): ${sampled.cpu_percent}`);
    assert.ok(sampled.memory_bytes >= 64 * MiB, `the fake's 64 MiB and more: ${sampled.memory_bytes}`);
    assert.equal(sampled.disk_bytes, 12 * MiB);
    assert.ok(Number.isFinite(Date.parse(sampled.measured_at)), sampled.measured_at);
    const ofProcess = (await instances('/v1/apps/metered/processes/web/instances'))[0].usage;
    assert.ok(ofProcess.measured_at >= sampled.measured_at, 'the process view shows the same record');
    assert.equal(ofProcess.disk_bytes, sampled.disk_bytes);

    // A newer sample replaces it.
    const newer = await until('a newer sample', async () => {
      const usage = (await instances('/v1/apps/metered/instances'))[0].usage;
      return usage.measured_at > sampled.measured_at ? usage : undefined;
    });
    assert.ok(newer.memory_bytes > sampled.memory_bytes, `${newer.memory_bytes} replaces ${sampled.memory_bytes}`);
    assert.ok((await instances('/v1/apps/metered/processes/web/instances'))[0].usage.measured_at >= newer.measured_at, 'in the process view too');
  });

  test('the OpenAPI document describes exactly the fields of the instance contract', async () => {
    const doc = (await h.call('GET', '/v1/openapi.json', undefined, null)).body;
    for (const path of ['/v1/apps/{app}/instances', '/v1/apps/{app}/processes/{type}/instances']) {
      assert.equal(doc.paths[path].get.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/InstanceList');
    }
    const instance = doc.components.schemas.Instance;
    assert.deepEqual(Object.keys(instance.properties).sort(), Object.keys(instanceViewSchema.shape).sort());
    assert.deepEqual([...instance.required].sort(), Object.keys(instanceViewSchema.shape).sort());
  });

  test('an unplaced instance has the limits of its process and no usage', async () => {
    assert.equal((await h.call('POST', '/v1/apps/metered/processes/web/actions/scale', { instances: 3 })).status, 202);
    // Once the cell's presence counts what was placed moments ago (not booked twice), one stays unplaced.
    const unplaced = await until('one instance unplaced', async () => {
      const waiting = (await instances('/v1/apps/metered/instances')).filter((i) => i.state === 'UNPLACED');
      return waiting.length === 1 ? waiting[0] : undefined;
    });
    const webProcess = (await h.call('GET', '/v1/apps/metered/processes/web')).body;
    assert.equal(unplaced.index, 2);
    assert.equal(unplaced.memory_limit_mb, webProcess.memory_mb);
    assert.equal(unplaced.disk_limit_mb, webProcess.disk_mb);
    assert.equal(unplaced.usage, null);
    const ofProcess = await instances('/v1/apps/metered/processes/web/instances');
    assert.equal(ofProcess.find((i) => i.state === 'UNPLACED')?.memory_limit_mb, webProcess.memory_mb);
    await h.call('POST', '/v1/apps/metered/processes/web/actions/scale', { instances: 1 });
    await until('back to one instance', async () => (await instances('/v1/apps/metered/instances')).length === 1);
  });

  test('GET /metrics: requests by route template and status, apps, deployments, builds, cells, process metrics; no names', async () => {
    await h.call('GET', '/v1/apps/metered/instances', undefined, null); // a 401
    await h.call('GET', '/no/such/path');
    const res = await fetch(`${h.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const count = (labels: Record<string, string>) => seriesValue(text, 'paas_controller_http_request_duration_seconds_count', labels) ?? 0;
    assert.ok(count({ method: 'GET', route: '/v1/apps/:app/instances', status_code: '200' }) >= 4, 'instances listed at least 4 times');
    assert.ok(count({ method: 'GET', route: '/v1/apps/:app/instances', status_code: '401' }) >= 1, 'refused requests are counted under their route');
    assert.ok(count({ method: 'GET', route: '/v1/apps/:app/processes/:type/instances', status_code: '200' }) >= 2);
    assert.ok(count({ method: 'GET', route: '(unmatched)', status_code: '404' }) >= 1, 'an unknown path counts as (unmatched)');
    assert.ok(
      (seriesValue(text, 'paas_controller_http_request_duration_seconds_bucket', { route: '/v1/apps/:app/instances', status_code: '200', le: '+Inf' }) ?? 0) >= 4,
    );
    assert.equal(seriesValue(text, 'paas_controller_apps', { state: 'STARTED' }), 1);
    assert.equal(seriesValue(text, 'paas_controller_apps', { state: 'STOPPED' }), 0);
    assert.ok((seriesValue(text, 'paas_controller_deployments', { state: 'DEPLOYED' }) ?? 0) >= 1);
    assert.equal(seriesValue(text, 'paas_controller_deployments', { state: 'DEPLOYING' }), 0);
    assert.equal(seriesValue(text, 'paas_controller_builds', { state: 'STAGED' }), 1);
    assert.equal(seriesValue(text, 'paas_controller_builds', { state: 'FAILED' }), 0);
    assert.equal(seriesValue(text, 'paas_controller_cells', { state: 'live' }), 1);
    assert.equal(seriesValue(text, 'paas_controller_cells', { state: 'draining' }), 0);
    assert.ok([0, 1].includes(seriesValue(text, 'paas_controller_convergence_leader') ?? -1));
    assert.ok((seriesValue(text, 'process_resident_memory_bytes') ?? 0) > 0, 'default process metrics');
    assert.ok(!text.includes('metered'), 'no app name in the controller metrics');
    assert.ok(!text.includes(h.adminToken), 'no token in the controller metrics');
  });

  test('with CONTROLLER_METRICS_TOKEN set, /metrics asks for it', async () => {
    const secret = randomBytes(16).toString('hex');
    process.env.CONTROLLER_METRICS_TOKEN = secret;
    const replica = await h.replica().finally(() => delete process.env.CONTROLLER_METRICS_TOKEN);
    try {
      const anonymous = await fetch(`${replica.url}/metrics`);
      assert.equal(anonymous.status, 401);
      assert.match(((await anonymous.json()) as { error: { message: string } }).error.message, /CONTROLLER_METRICS_TOKEN/);
      assert.equal((await fetch(`${replica.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await fetch(`${replica.url}/metrics`, { headers: { authorization: `Bearer ${h.adminToken}` } })).status, 401, 'an API token is not the metrics token');
      const ok = await fetch(`${replica.url}/metrics`, { headers: { authorization: `Bearer ${secret}` } });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /^paas_controller_apps\{state="STARTED"\} 1$/m);
    } finally {
      await replica.close();
    }
  });
});
