/**
 * Metrics as a user and an operator meet them: an app pushed with git shows its usage in the
 * instance list; when it allocates 50 MB (asked through the router) its memory rises there and in
 * its cell's Prometheus /metrics; the controller's /metrics counts the app.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instanceListSchema, type InstanceView } from '@paas/contracts';
import { commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, writeFiles, type TestPlatform } from '@paas/test-platform';
import { api, viaRouter } from './test-platform';
import { pollUntil } from '@paas/local-services';

const MiB = 1024 * 1024;

/** GET /eat keeps 50 MB more (filled, so resident) and says how much it holds. */
const EATER = `const http = require('node:http');
const kept = [];
http.createServer((req, res) => {
  if (req.url === '/eat') kept.push(Buffer.alloc(50 * 1024 * 1024, 1));
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ heldMb: kept.length * 50 }));
}).listen(process.env.PORT);
`;

/** The series `name{...}` whose labels include `labels`, from Prometheus text: its labels and value. */
function findSeries(text: string, name: string, labels: Record<string, string>): { labels: Record<string, string>; value: number } | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return { labels: found, value: Number(match[3]) };
  }
  return undefined;
}

describe('metrics', () => {
  let platform: TestPlatform;
  let work: string;

  const instances = async (): Promise<InstanceView[]> => {
    const r = await api(platform, 'GET', '/v1/apps/eater/instances');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const parsed = instanceListSchema.safeParse(r.json);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    return parsed.data.resources;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-metrics-'));
    // Samples every second (default 5 s), so the test waits less.
    platform = await startIsolatedPlatform(2, { cellEnv: () => ({ CELL_USAGE_INTERVAL_MS: '1000' }) });
  });

  after(async () => {
    const leftovers = await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, [], 'stopping the platform leaves no bridge, veth, netns or iptables rule behind');
  });

  test('an app that allocates 50 MB shows it in the API and in its cell /metrics', async () => {
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: 'eater' })).status, 201);
    const dir = join(work, 'eater');
    await writeFiles(dir, { Procfile: 'web: node server.js\n', 'server.js': EATER });
    await commitDir(dir);
    const pushed = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/eater.git`, 'main'], dir);
    assert.equal(pushed.code, 0, pushed.output);

    const webProcess = (await api(platform, 'GET', '/v1/apps/eater/processes/web')).json;
    const first = await pollUntil(
      'the running instance to report its usage',
      async () => (await instances()).find((i) => i.state === 'RUNNING' && i.usage !== null),
      { timeoutMs: 60_000 },
    );
    assert.equal(first.memory_limit_mb, webProcess.memory_mb);
    assert.equal(first.disk_limit_mb, webProcess.disk_mb);
    const usage = first.usage!;
    assert.ok(usage.memory_bytes > 5 * MiB && usage.memory_bytes < first.memory_limit_mb! * MiB, `an idle node app uses ${usage.memory_bytes} bytes`);
    assert.ok(usage.disk_bytes >= 0 && usage.disk_bytes < first.disk_limit_mb! * MiB);
    assert.ok(usage.cpu_percent >= 0);
    assert.ok(Math.abs(Date.now() - Date.parse(usage.measured_at)) < 60_000, `measured at ${usage.measured_at}`);

    const eaten = await viaRouter(platform, `eater.${platform.appsDomain}`, '/eat');
    assert.equal(eaten.status, 200, eaten.text);
    assert.deepEqual(JSON.parse(eaten.text), { heldMb: 50 });
    const grown = await pollUntil(
      'memory_bytes to rise by 40 MiB',
      async () => {
        const now = (await instances()).find((i) => i.instance_id === first.instance_id);
        return now?.usage && now.usage.memory_bytes - usage.memory_bytes >= 40 * MiB ? now : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.ok(Date.parse(grown.usage!.measured_at) > Date.parse(usage.measured_at));

    // The cell the instance runs on shows its series, labelled with the app, at least as high.
    const cell = platform.cells.find((c) => c.id === first.cell_id);
    assert.ok(cell?.metricsPort, `cell ${first.cell_id} serves metrics`);
    const labels = { app: 'eater', process_type: 'web', index: '0', instance_id: first.instance_id, cell: cell.id };
    const series = await pollUntil(
      "the instance's memory series on its cell",
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${cell.metricsPort}/metrics`)).text();
        const memory = findSeries(text, 'paas_cell_instance_memory_bytes', labels);
        return memory && memory.value - usage.memory_bytes >= 40 * MiB ? { text, memory } : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(findSeries(series.text, 'paas_cell_instance_memory_limit_bytes', labels)?.value, webProcess.memory_mb * MiB);
    assert.equal(findSeries(series.text, 'paas_cell_instance_disk_limit_bytes', labels)?.value, webProcess.disk_mb * MiB);
    assert.ok(findSeries(series.text, 'paas_cell_instance_cpu_seconds_total', labels)!.value > 0);
    assert.equal(findSeries(series.text, 'paas_cell_instances', { state: 'RUNNING' })?.value, 1);

    const controller = await (await fetch(`${platform.apiUrl}/metrics`)).text();
    assert.equal(findSeries(controller, 'paas_controller_apps', { state: 'STARTED' })?.value, 1);
    assert.equal(findSeries(controller, 'paas_controller_cells', { state: 'live' })?.value, 2);
  });
});
