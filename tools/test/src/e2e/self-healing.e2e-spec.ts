/**
 * Self-healing on real runc, Redis and Postgres: kill -9 of an app process, of a container and of
 * the cell agent; an exit with status 3; OOM; a memory scale of slow-stopping instances; drain; a
 * cell lost for good; an instance too big for any cell. Each scenario asserts the end state, that
 * no index ever ran twice, and what the API (and `paas app`) say happened.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { api, trafficLoop, viaRouter } from './test-platform';
import { pollUntil } from '@paas/local-services';

const run = promisify(execFile);
const CLI = join(ROOT, 'apps', 'cli', 'dist', 'main.js');

interface Instance {
  index: number;
  instance_id: string;
  state: string;
  cell_id: string;
  release_version: number | null;
  stop_reason: string | null;
  crash_count: number;
  last_crash_reason: string | null;
}

/**
 * The test app (the container's init: a Procfile runs it without npm): answers with its index;
 * /crash exits with status 3; /oom allocates until the memory cgroup kills it; after /slow-stop it
 * takes 6 s to exit on SIGTERM, as an app finishing its work would.
 */
const SERVER = `
const http = require('node:http');
const hog = [];
let slowStop = false;
process.on('SIGTERM', () => setTimeout(() => process.exit(0), slowStop ? 6000 : 0));
const server = http.createServer((req, res) => {
  if (req.url === '/slow-stop') { slowStop = true; res.end('instance ' + process.env.INSTANCE_INDEX + ' stops slowly'); return; }
  if (req.url === '/deaf') { res.end('not listening any more'); server.close(); setInterval(() => {}, 1000); return; }
  if (req.url === '/crash') { res.end('bye'); setTimeout(() => process.exit(3), 10); return; }
  if (req.url === '/oom') { res.end('eating'); setInterval(() => hog.push(Buffer.alloc(8 * 1024 * 1024, 1)), 5); return; }
  res.end('instance ' + process.env.INSTANCE_INDEX + ' pid ' + process.pid + '\\n');
});
server.listen(process.env.PORT);
`;

describe('self-healing on real containers', () => {
  let platform: TestPlatform;
  let work: string;
  const host = () => `heal.${platform.appsDomain}`;
  const instances = async (): Promise<Instance[]> => (await api(platform, 'GET', '/v1/apps/heal/instances')).json.resources;
  const running = async () => (await instances()).filter((i) => i.state === 'RUNNING');
  /** Exactly `n` RUNNING instances, indexes 0..n-1, each once. */
  const settledAt = (n: number, what: string, extra: (list: Instance[]) => boolean = () => true) =>
    pollUntil(
      what,
      async () => {
        const all = await instances();
        const live = all.filter((i) => i.state === 'RUNNING');
        const indexes = live.map((i) => i.index).sort();
        const ok = all.length === n && live.length === n && indexes.every((x, k) => x === k) && extra(live);
        return ok ? live : undefined;
      },
      { timeoutMs: 60_000 },
    );
  const runcRoot = (cellId: string) => join(platform.dataDir, 'cells', cellId, 'runc');
  const containerOf = (cellId: string, instanceId: string) => `${platform.cells.find((c) => c.id === cellId)!.containerPrefix}-${instanceId}`;
  const initPid = async (cellId: string, instanceId: string) =>
    (JSON.parse((await run('runc', ['--root', runcRoot(cellId), 'state', containerOf(cellId, instanceId)])).stdout) as { pid: number }).pid;

  /** Requests through the router until stopped; counts non-200 answers. */
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-heal-'));
    platform = await startIsolatedPlatform(2);
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: 'heal' })).status, 201);
    const dir = join(work, 'heal');
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await writeFile(join(dir, 'server.js'), SERVER);
    await writeFile(join(dir, 'Procfile'), 'web: node server.js\n');
    await commitDir(dir);
    const push = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/heal.git`, 'main'], dir);
    assert.equal(push.code, 0, push.output);
    const scaled = await api(platform, 'POST', '/v1/apps/heal/processes/web/actions/scale', { instances: 2, memory_mb: 64 });
    assert.equal(scaled.status, 202, JSON.stringify(scaled.json));
    await pollUntil('the 64 MB release to be deployed', async () => (await api(platform, 'GET', '/v1/apps/heal/deployments?per_page=1')).json.resources[0]?.state === 'DEPLOYED', { timeoutMs: 60_000 });
    await settledAt(2, 'two instances running');
  });

  after(async () => {
    const leftovers = await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, []);
  });

  test('kill -9 of the app process: the instance crashes and is restarted, once', async () => {
    const victim = (await running()).find((i) => i.index === 0)!;
    const pid = await initPid(victim.cell_id, victim.instance_id);
    const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean);
    const app = children.length ? Number(children[children.length - 1]) : pid;
    process.kill(app, 'SIGKILL');
    const after = await settledAt(2, 'index 0 restarted', (l) => l.find((i) => i.index === 0)!.instance_id !== victim.instance_id);
    const restarted = after.find((i) => i.index === 0)!;
    const crashed = await pollUntil('the crash to be counted', async () => {
      const index0 = (await instances()).find((i) => i.index === 0)!;
      return index0.crash_count >= 1 ? index0 : undefined;
    }, { timeoutMs: 10_000 }).catch(() => undefined);
    assert.ok(crashed, `crash counted: ${JSON.stringify(restarted)}`);
    assert.match(crashed.last_crash_reason ?? '', /^killed by signal 9 \(SIGKILL\)/, 'the reason names the signal');
  });

  test('kill -9 of a container: restarted, once', async () => {
    const victim = (await running()).find((i) => i.index === 1)!;
    await run('runc', ['--root', runcRoot(victim.cell_id), 'kill', containerOf(victim.cell_id, victim.instance_id), 'KILL']);
    await settledAt(2, 'index 1 restarted', (l) => l.find((i) => i.index === 1)!.instance_id !== victim.instance_id);
  });

  test('an app that exits with status 3: its crash reason and its instance-crashed event say "exited with status 3"', async () => {
    const before = await running();
    assert.equal((await viaRouter(platform, host(), '/crash')).status, 200);
    const crashed = await pollUntil('a crash with status 3', async () => (await instances()).find((i) => /^exited with status 3/.test(i.last_crash_reason ?? '')), { timeoutMs: 60_000 });
    assert.ok(before.some((b) => b.index === crashed.index));
    const events = await pollUntil('its instance-crashed event', async () => {
      const list = (await api(platform, 'GET', '/v1/events?types=instance-crashed')).json.resources as Array<{ data: { reason: string | null } }>;
      return list.find((e) => /^exited with status 3/.test(e.data.reason ?? ''));
    }, { timeoutMs: 30_000 });
    assert.ok(events);
    await settledAt(2, 'both running again', (l) => l.some((i) => !before.some((b) => b.instance_id === i.instance_id)));
  });

  test('a memory scale of slow-stopping instances: the old ones are STOPPING with their release and not counted as running; paas app shows it', async () => {
    const slow = new Set<string>();
    for (let k = 0; k < 40 && slow.size < 2; k++) {
      const r = await viaRouter(platform, host(), '/slow-stop');
      if (r.status === 200) slow.add(r.text);
    }
    assert.equal(slow.size, 2, `both instances stop slowly: ${[...slow].join(', ')}`);
    const old = await running();
    const oldVersion = old[0]!.release_version;
    assert.ok(oldVersion !== null && old.every((i) => i.release_version === oldVersion), JSON.stringify(old));
    const scaled = await api(platform, 'POST', '/v1/apps/heal/processes/web/actions/scale', { memory_mb: 80 });
    assert.equal(scaled.status, 202, JSON.stringify(scaled.json));

    // Once their cells took the stops (moments after the new ones run), every old instance is STOPPING (or gone already).
    const seen = await pollUntil('the old instances STOPPING', async () => {
      const list = (await api(platform, 'GET', '/v1/apps/heal/instances')).json as { resources: Instance[]; summary: Array<{ process_type: string; desired: number; running: number; stopping: number }> };
      const taken = old.every((o) => ['STOPPING', undefined].includes(list.resources.find((i) => i.instance_id === o.instance_id)?.state));
      return taken && list.resources.some((i) => i.state === 'STOPPING') ? list : undefined;
    }, { timeoutMs: 90_000 });
    const stopping = seen.resources.filter((i) => i.state === 'STOPPING');
    for (const i of stopping) {
      assert.ok(old.some((o) => o.instance_id === i.instance_id), `only old instances stop: ${JSON.stringify(i)}`);
      assert.equal(i.release_version, oldVersion);
      assert.equal(i.stop_reason, 'replaced by a new release');
    }
    const web = seen.summary.find((c) => c.process_type === 'web')!;
    assert.deepEqual(
      { desired: web.desired, running: web.running, stopping: web.stopping },
      { desired: 2, running: seen.resources.filter((i) => i.state === 'RUNNING').length, stopping: stopping.length },
    );
    assert.ok(web.running <= 2, `the old ones are not counted as running: ${JSON.stringify(seen.summary)}`);

    // The CLI says the same while an old instance still stops (each takes 6 s).
    const cliEnv = { ...process.env, PAAS_API: platform.apiUrl, PAAS_TOKEN: platform.adminToken, PAAS_CONFIG: join(work, 'no-config.json'), NO_COLOR: '1', COLUMNS: '200' };
    const shown = await pollUntil('paas app to list a STOPPING instance', async () => {
      const { stdout } = await run(process.execPath, [CLI, 'app', 'heal'], { env: cliEnv, timeout: 30_000 });
      return new RegExp(`STOPPING\\s+v${oldVersion}\\b`).test(stdout) ? stdout : undefined;
    }, { timeoutMs: 30_000 });
    assert.match(shown, /^web: [0-2]\/2 running \(\+[^)]*\d stopping[^)]*\)/m);
    assert.match(shown, new RegExp(`#\\d stopping \\(v${oldVersion}\\): replaced by a new release`));
    await settledAt(2, 'the new release alone', (l) => l.every((i) => i.release_version === oldVersion + 1));
  });

  test('an instance that runs out of memory is reported "out of memory" and restarted', async () => {
    const before = await running();
    const traffic = await viaRouter(platform, host(), '/oom');
    assert.equal(traffic.status, 200);
    const crashed = await pollUntil(
      'an out-of-memory crash',
      async () => (await instances()).find((i) => /^out of memory/.test(i.last_crash_reason ?? '')),
      { timeoutMs: 60_000 },
    );
    assert.match(crashed.last_crash_reason ?? '', /^out of memory/);
    await settledAt(2, 'both running again', (l) => l.some((i) => !before.some((b) => b.instance_id === i.instance_id)));
  });

  test('an instance that stops answering its health check is replaced', async () => {
    const before = await running();
    const r = await viaRouter(platform, host(), '/deaf');
    assert.equal(r.status, 200);
    const failed = await pollUntil(
      'a failed liveness check',
      async () => (await instances()).find((i) => /health check failed/.test(i.last_crash_reason ?? '')),
      { timeoutMs: 60_000 },
    );
    assert.match(failed.last_crash_reason ?? '', /health check failed 3 times in a row \(port 8080\)/);
    await settledAt(2, 'both running again', (l) => l.filter((i) => before.some((b) => b.instance_id === i.instance_id)).length === 1);
  });

  test('kill -9 of the cell agent: it re-adopts its containers without restarting them; routes stay served', async () => {
    const cell = (await running())[0].cell_id;
    const before = await running();
    const pidsBefore = await Promise.all(before.filter((i) => i.cell_id === cell).map((i) => initPid(cell, i.instance_id)));
    const traffic = trafficLoop(platform, host());
    const agent = platform.processes.get(cell)!;
    const oldPid = agent.pid!;
    process.kill(oldPid, 'SIGKILL');
    await pollUntil('the agent restarted', async () => agent.pid !== undefined && agent.pid !== oldPid, { timeoutMs: 30_000 });
    await pollUntil('the restarted agent re-announced', async () => {
      const cells = (await api(platform, 'GET', '/v1/cells')).json.resources as Array<{ id: string }>;
      return cells.some((c) => c.id === cell);
    }, { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 3_000)); // a few convergence passes with the new agent
    const result = await traffic.end();
    assert.deepEqual(result.failures, [], 'no request failed while the agent restarted');
    assert.ok(result.ok > 10);
    const after = await running();
    assert.deepEqual(after.map((i) => i.instance_id).sort(), before.map((i) => i.instance_id).sort(), 'same instances');
    const pidsAfter = await Promise.all(after.filter((i) => i.cell_id === cell).map((i) => initPid(cell, i.instance_id)));
    assert.deepEqual(pidsAfter.sort(), pidsBefore.sort(), 'same container processes: nothing restarted');
  });

  test('drain: the instances move to the other cell first; no request fails through the router', async () => {
    const target = (await running())[0].cell_id;
    const traffic = trafficLoop(platform, host());
    const drain = await api(platform, 'POST', `/v1/cells/${target}/actions/drain`);
    assert.equal(drain.status, 202);
    await settledAt(2, 'nothing left on the drained cell', (l) => l.every((i) => i.cell_id !== target));
    const result = await traffic.end();
    assert.deepEqual(result.failures, [], 'no request failed during the drain');
    // Undrain for the next scenario: the agent reads it at its next heartbeat.
    assert.equal((await api(platform, 'POST', `/v1/cells/${target}/actions/undrain`)).status, 202);
    await pollUntil('the cell live again', async () => {
      const cells = (await api(platform, 'GET', '/v1/cells')).json.resources as Array<{ id: string; state: string }>;
      return cells.find((c) => c.id === target)?.state === 'live';
    }, { timeoutMs: 30_000 });
  });

  test('SIGTERM to a cell agent drains it before it exits: no request fails, nothing is left on it', async () => {
    const target = (await running())[0].cell_id;
    const agent = platform.processes.get(target)!;
    const oldPid = agent.pid!;
    const traffic = trafficLoop(platform, host());
    process.kill(oldPid, 'SIGTERM');
    await settledAt(2, 'instances moved off the terminating cell', (l) => l.every((i) => i.cell_id !== target));
    await pollUntil('the agent exited and was restarted', async () => agent.pid !== undefined && agent.pid !== oldPid, { timeoutMs: 60_000 });
    const result = await traffic.end();
    assert.deepEqual(result.failures, [], 'no request failed while the cell drained');
    const containers = JSON.parse((await run('runc', ['--root', runcRoot(target), 'list', '--format', 'json'])).stdout || '[]') as unknown[] | null;
    assert.equal((containers ?? []).length, 0, 'the drained cell runs no container');
    await pollUntil('the restarted cell live', async () => {
      const cells = (await api(platform, 'GET', '/v1/cells')).json.resources as Array<{ id: string; state: string }>;
      return cells.find((c) => c.id === target)?.state === 'live';
    }, { timeoutMs: 30_000 });
  });

  test('a cell lost for good: its instances are replaced on the other cell', async () => {
    const cells = platform.cells.map((c) => c.id);
    const all = await running();
    const lost = all[0].cell_id;
    const survivor = cells.find((c) => c !== lost)!;
    const agent = platform.processes.get(lost)!;
    // The VM dies: the agent and its containers vanish at once.
    agent.abandon();
    try {
      for (const i of all.filter((x) => x.cell_id === lost)) {
        await run('runc', ['--root', runcRoot(lost), 'kill', containerOf(lost, i.instance_id), 'KILL']).catch(() => undefined);
      }
      await settledAt(2, 'both indexes on the surviving cell', (l) => l.every((i) => i.cell_id === survivor));
      const answers = new Set<string>();
      for (let k = 0; k < 10; k++) answers.add((await viaRouter(platform, host())).text.split(' pid')[0]);
      assert.deepEqual([...answers].sort(), ['instance 0', 'instance 1']);
    } finally {
      // The host comes back (its agent cleans up the dead containers; stopping the platform removes its network).
      agent.start();
    }
    await pollUntil('the cell back', async () => ((await api(platform, 'GET', '/v1/cells')).json.resources as Array<{ id: string }>).some((c) => c.id === lost), { timeoutMs: 30_000 });
  });

  test('an instance too big for any cell fails its deployment with the sizes named; the old ones keep serving', async () => {
    const scale = await api(platform, 'POST', '/v1/apps/heal/processes/web/actions/scale', { memory_mb: 65_536 });
    assert.equal(scale.status, 202);
    const failed = await pollUntil('the deployment to fail', async () => {
      const d = (await api(platform, 'GET', '/v1/apps/heal/deployments?per_page=1')).json.resources[0];
      return d.state === 'FAILED' ? d : undefined;
    }, { timeoutMs: 30_000 });
    assert.match(failed.reason, /needs 65536 MB, largest free \d+ MB/, failed.reason);
    await settledAt(2, 'the old instances still running');
    assert.equal((await viaRouter(platform, host())).status, 200);
  });

  test('deleting an app whose instance takes 6 s to stop starts none anew meanwhile', async () => {
    // An app of its own: heal's crash history (a backoff) would hide a restart here.
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: 'doomed' })).status, 201);
    const dir = join(work, 'doomed');
    await cp(join(work, 'heal'), dir, { recursive: true });
    const push = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/doomed.git`, 'main'], dir);
    assert.equal(push.code, 0, push.output);
    const doomed = `doomed.${platform.appsDomain}`;
    await pollUntil('doomed to stop slowly', async () => (await viaRouter(platform, doomed, '/slow-stop')).status === 200, { timeoutMs: 30_000 });
    const before = (await api(platform, 'GET', '/v1/apps/doomed/instances')).json.resources as Instance[];
    assert.equal(before.length, 1);
    const expected = containerOf(before[0]!.cell_id, before[0]!.instance_id);
    /** The app's running containers on both cells (runc's own list), by the instance ids the API gave. */
    const containers = async () => {
      const ids: string[] = [];
      for (const cell of platform.cells) {
        const list = JSON.parse((await run('runc', ['--root', runcRoot(cell.id), 'list', '--format', 'json'])).stdout || '[]') as Array<{ id: string; status: string }> | null;
        for (const c of list ?? []) if (c.status === 'running') ids.push(c.id);
      }
      return ids;
    };
    const others = new Set(await containers());
    others.delete(expected);
    const seen = new Set<string>();
    const deleting = api(platform, 'DELETE', '/v1/apps/doomed');
    // Sampled from the delete on until its container is gone: one that a convergence pass started
    // during the slow stop (it would within a 2 s pass) shows up as a new id.
    await pollUntil('doomed\'s container gone', async () => {
      const now = (await containers()).filter((id) => !others.has(id));
      now.forEach((id) => seen.add(id));
      return now.length === 0;
    }, { timeoutMs: 60_000 });
    assert.equal((await deleting).status, 204);
    assert.deepEqual([...seen].filter((id) => id !== expected), [], 'no instance was started while the app was being deleted');
  });
});
