/**
 * Chaos on the router of a running platform (issue 13, item 6): the platform runs two router
 * processes on one port, each under its own supervisor. kill -9 of one under the bounded traffic
 * loop fails at most the request it had in flight while the other answers, and the supervisor
 * brings it back; a rolling restart (`npm run restart:router`'s request, RunningPlatform.restartRouters) fails none; stopping the
 * platform ends every router process it ever ran. Real runc, Redis, Postgres and a pushed app.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_ROUTER_PROCESSES,
  ROOT,
  commitDir,
  git,
  requestRouterRestart,
  serveRouterRestarts,
  startIsolatedPlatform,
  stopIsolatedPlatform,
  type TestPlatform,
} from '@paas/platform';
import { api, trafficLoop, viaRouter, waitUntil } from './test-platform';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('router processes under chaos', () => {
  let platform: TestPlatform | undefined;
  let work: string;
  /** Every router pid the platform ran. */
  const pids = new Set<number>();
  const notePids = () => platform!.routers.forEach((r) => r.pid && pids.add(r.pid));
  const host = () => `chaos-router.${platform!.appsDomain}`;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-chaos-router-'));
    platform = await startIsolatedPlatform(1);
    notePids();
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: 'chaos-router' })).status, 201);
    const dir = join(work, 'app');
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await commitDir(dir);
    const push = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/chaos-router.git`, 'main'], dir);
    assert.equal(push.code, 0, push.output);
    await waitUntil('the app to answer through the router', async () => (await viaRouter(platform!, host())).status === 200, 60_000);
  });

  after(async () => {
    await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
  });

  test('the platform runs two router processes by default, on one port', () => {
    assert.equal(DEFAULT_ROUTER_PROCESSES, 2);
    assert.deepEqual(platform!.routers.map((r) => r.spec.name), ['router-1', 'router-2']);
    const running = platform!.routers.map((r) => r.pid!);
    assert.equal(new Set(running).size, 2, 'two processes');
    assert.ok(running.every(alive));
    assert.ok(platform!.routers.every((r) => r.spec.env.ROUTER_PORT === String(platform!.routerPort) && r.spec.env.ROUTER_REUSE_PORT === 'true'));
  });

  test('kill -9 of a router process fails at most the request in flight; the other answers; it comes back', async () => {
    const victim = platform!.processes.get('router-1')!;
    const loop = trafficLoop(platform!, host(), { maxRequests: 5_000, maxMs: 60_000 });
    await waitUntil('traffic', async () => [...loop.bodies.values()].reduce((a, b) => a + b, 0) >= 20, 20_000);
    const killed = victim.pid!;
    const answered = () => [...loop.bodies.values()].reduce((a, b) => a + b, 0);
    process.kill(killed, 'SIGKILL');
    const atKill = answered();
    await waitUntil('router-1 restarted', async () => victim.pid !== undefined && victim.pid !== killed, 20_000);
    await victim.whenReady(30_000);
    const whileDown = answered() - atKill;
    notePids();
    const { ok, failures } = await loop.end();
    console.log(`kill -9 of router-1: ${failures.length} failed / ${ok + failures.length}, ${whileDown} answered while it was down`);
    assert.ok(failures.length <= 1, `at most the one request in flight failed: ${failures.join('; ')}`);
    assert.ok(whileDown >= 5, `router-2 answered while router-1 was down (${whileDown})`);
    assert.equal(alive(killed), false);
  });

  test('a rolling restart of the router processes (npm run restart:router) fails no request', async () => {
    const before = platform!.routers.map((r) => r.pid);
    const loop = trafficLoop(platform!, host(), { maxRequests: 5_000, maxMs: 90_000 });
    // What `npm start` and `npm run restart:router` do, the runner being this process: the
    // request over the data dir's control socket, a line per step back.
    const control = await serveRouterRestarts(platform!.dataDir, platform!, () => undefined);
    const steps: string[] = [];
    try {
      const outcome = await requestRouterRestart(platform!.dataDir, 120_000, (step) => steps.push(step));
      assert.equal(outcome.event, 'done', outcome.message);
    } finally {
      await control.close();
    }
    assert.deepEqual(steps.map((s) => /^(router-\d) restarted: pid \d+ drained, pid \d+ serves$/.exec(s)?.[1]), ['router-1', 'router-2'], steps.join('\n'));
    notePids();
    await waitUntil('traffic after the restart', async () => [...loop.bodies.values()].reduce((a, b) => a + b, 0) >= 50, 20_000);
    const { ok, failures } = await loop.end();
    console.log(`rolling restart of ${before.length} router processes: ${failures.length} failed / ${ok + failures.length}`);
    assert.deepEqual(failures, []);
    for (const [i, router] of platform!.routers.entries()) {
      assert.notEqual(router.pid, before[i], `${router.spec.name} runs a new process`);
      assert.equal(alive(before[i]!), false, `the old ${router.spec.name} exited`);
    }
  });

  test('stopping the platform ends every router process it ran', async () => {
    const stopped = platform!;
    platform = undefined;
    assert.deepEqual(await stopIsolatedPlatform(stopped), [], 'nothing left on the host');
    assert.ok(pids.size >= 5, [...pids].join(', '));
    assert.deepEqual([...pids].filter(alive), [], 'no router process is left');
  });
});
