/**
 * Chaos on one platform with two cells (real runc, Redis, Postgres), under a request loop through
 * the router to an app with two instances: kill -9 of a cell agent, SIGSTOP of a cell agent
 * for 4 s, SIGSTOP of Redis for 5 s, kill -9 of Postgres, kill -9 of the controller during a
 * git push, kill -9 of one of the two router processes and a rolling restart of both. Each case
 * prints `failed / total` and the recovery time and asserts that apps, routes, releases and env
 * are unchanged (chaos-support.ts). Redis restarted empty is in chaos-redis.e2e-spec.ts.
 *
 * Every case but the router kill allows 0 failed requests: none of these processes is on the
 * request path (router -> container), and the router serves from its own route table, whose
 * entries live 30 s without a refresh (ROUTE_TTL_MS), longer than any of these faults; the other
 * router process keeps accepting while one restarts. A killed router process loses the request it
 * had in flight.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '@paas/local-services';
import { DEFAULT_ROUTER_PROCESSES, requestRouterRestart, serveRouterRestarts } from '@paas/platform';
import { startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { deployChaosApp, pushChaosApp, runChaosCase, runningInstances } from './chaos-support';
import { api, viaRouter } from './test-platform';
import { pollUntil } from '@paas/local-services';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ids = (list: Array<{ instance_id: string }>) => list.map((i) => i.instance_id).sort();

describe('chaos under a request loop through the router', () => {
  let platform: TestPlatform;
  let work: string;
  /** Every router pid the platform ran: none may be left when it stops. */
  const routerPids = new Set<number>();
  const noteRouterPids = () => platform.routers.forEach((r) => r.pid && routerPids.add(r.pid));
  const host = () => `chaos-web.${platform.appsDomain}`;
  const supervised = (name: string) => {
    const p = platform.processes.get(name);
    assert.ok(p?.pid, `${name} runs`);
    return p;
  };
  /** Waits until the supervisor has started `name` anew (another pid than `oldPid`). */
  const restarted = (name: string, oldPid: number) =>
    pollUntil(`${name} restarted by the supervisor`, async () => {
      const pid = platform.processes.get(name)?.pid;
      return pid !== undefined && pid !== oldPid;
    }, { timeoutMs: 60_000 });
  const liveCells = async () =>
    ((await api(platform, 'GET', '/v1/cells')).json.resources as Array<{ id: string; state: string; started_at: string }>).filter((c) => c.state === 'live');

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-chaos-'));
    // Short leases: a push whose controller died is ended within seconds, not 30-45 s.
    platform = await startIsolatedPlatform(2, { controllerEnv: { PAAS_LEASE_TTL_MS: '5000', PAAS_LEASE_SWEEP_INTERVAL_MS: '500' } });
    await deployChaosApp(platform, work, 'chaos-web', 2);
    const cells = new Set((await runningInstances(platform, 'chaos-web', 2)).map((i) => i.cell_id));
    console.log(`chaos-web: 2 instances on ${cells.size} of 2 cells`);
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: 'chaos-push' })).status, 201);
  });

  after(async () => {
    if (platform) noteRouterPids();
    const leftovers = await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, []);
    assert.deepEqual([...routerPids].filter(pidAlive), [], 'stopping the platform ended every router process it ran');
  });

  test('kill -9 of a cell agent: its instances keep answering, and its restarted agent re-adopts them', async () => {
    const before = await runningInstances(platform, 'chaos-web', 2);
    const cell = before[0]!.cell_id; // a cell with an instance of the app
    const startedBefore = (await liveCells()).find((c) => c.id === cell)!.started_at;
    let oldPid = 0;
    await runChaosCase(platform, {
      name: 'cell agent kill -9',
      host: host(),
      inject: async () => {
        oldPid = supervised(cell).pid!;
        process.kill(oldPid, 'SIGKILL');
      },
      // Recovered: the new agent announced itself (a new started_at) and reports the same instances running.
      recovered: async () => {
        await restarted(cell, oldPid);
        await pollUntil('the restarted agent announced', async () => (await liveCells()).some((c) => c.id === cell && c.started_at !== startedBefore), { timeoutMs: 30_000 });
        const now = await runningInstances(platform, 'chaos-web', 2);
        assert.deepEqual(ids(now), ids(before), 'the same instances: re-adopted, none replaced');
      },
    });
  });

  test('SIGSTOP of a cell agent for 4 s (a host paused briefly): it keeps its instances', async () => {
    const before = await runningInstances(platform, 'chaos-web', 2);
    const cell = before[0]!.cell_id;
    const pid = supervised(cell).pid!;
    const lostEvents = async () => (await api(platform, 'GET', '/v1/events?types=instance-lost&per_page=200')).json.resources.length as number;
    const lostBefore = await lostEvents();
    await runChaosCase(platform, {
      name: 'cell agent SIGSTOP 4 s',
      host: host(),
      inject: async () => {
        process.kill(pid, 'SIGSTOP');
        try {
          await sleep(4_000);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
      },
      recovered: async () => {
        await pollUntil('the cell live', async () => (await liveCells()).some((c) => c.id === cell), { timeoutMs: 30_000 });
      },
      // Long enough for a pass to have acted on an expiry (the presence watch reads every 250 ms).
      settleMs: 2_000,
    });
    // Its presence (7 s TTL, a heartbeat a second) outlived the pause: nothing was replaced.
    assert.deepEqual(ids(await runningInstances(platform, 'chaos-web', 2)), ids(before), 'the same instances');
    assert.equal(await lostEvents(), lostBefore, 'no instance-lost event');
    assert.equal(platform.processes.get(cell)?.pid, pid, 'the agent was paused, not restarted');
  });

  test('SIGSTOP of Redis for 5 s: nothing fails, no cell is taken for lost', async () => {
    const before = await runningInstances(platform, 'chaos-web', 2);
    const redisPid = supervised('redis').pid!;
    await runChaosCase(platform, {
      name: 'Redis SIGSTOP 5 s',
      host: host(),
      inject: async () => {
        process.kill(redisPid, 'SIGSTOP');
        try {
          await sleep(5_000);
        } finally {
          process.kill(redisPid, 'SIGCONT');
        }
      },
      // Recovered: both cells live and the API answers from Redis again (instances), unchanged:
      // the 7 s presence TTL outlasts the pause, so the convergence replaced nothing.
      recovered: async () => {
        await pollUntil('both cells live', async () => (await liveCells()).length === 2, { timeoutMs: 30_000 });
        const now = await runningInstances(platform, 'chaos-web', 2);
        assert.deepEqual(ids(now), ids(before), 'the same instances: no cell was taken for lost');
      },
    });
    assert.equal(platform.processes.get('redis')?.pid, redisPid, 'Redis was paused, not restarted');
  });

  test('kill -9 of Postgres: the supervisor restarts it, the API reads and writes again', async () => {
    let oldPid = 0;
    await runChaosCase(platform, {
      name: 'Postgres kill -9',
      host: host(),
      inject: async () => {
        oldPid = supervised('postgres').pid!;
        process.kill(oldPid, 'SIGKILL');
      },
      recovered: async () => {
        await restarted('postgres', oldPid);
        await pollUntil('the API reads from Postgres', async () => (await api(platform, 'GET', '/v1/apps')).status === 200, { timeoutMs: 60_000 });
        // A write the snapshot does not cover: a user.
        await pollUntil('the API writes to Postgres', async () => (await api(platform, 'POST', '/v1/users', { name: 'chaos-after-postgres' })).status === 201, { timeoutMs: 30_000 });
      },
    });
  });

  test('kill -9 of the controller during a git push: the push ends cleanly, nothing is left staging, a later push deploys', async () => {
    let push: Promise<{ code: number; output: string }> | undefined;
    let pushed: { code: number; output: string } | undefined;
    let killedWhile = '';
    let oldPid = 0;
    await runChaosCase(platform, {
      name: 'controller kill -9 during a push',
      host: host(),
      inject: async () => {
        push = pushChaosApp(platform, work, 'chaos-push');
        void push.then((r) => (pushed = r));
        // Killed once its build is staging (or, on a machine fast enough, once the push is over).
        killedWhile = await pollUntil('the push staging', async () => {
          if (pushed) return 'after the push';
          const builds = (await api(platform, 'GET', '/v1/apps/chaos-push/builds')).json.resources as Array<{ state: string }>;
          return builds.some((b) => b.state === 'STAGING') ? 'while its build was staging' : undefined;
        }, { timeoutMs: 60_000 });
        oldPid = supervised('controller').pid!;
        process.kill(oldPid, 'SIGKILL');
      },
      recovered: async () => {
        await restarted('controller', oldPid);
        await pollUntil('the controller answers', async () => (await api(platform, 'GET', '/v1/apps')).status === 200, { timeoutMs: 60_000 });
        pushed = await push!;
        await pollUntil('no build staging and no deployment deploying', async () => {
          for (const app of ['chaos-push', 'chaos-web']) {
            const builds = (await api(platform, 'GET', `/v1/apps/${app}/builds`)).json.resources as Array<{ state: string }>;
            const deployments = (await api(platform, 'GET', `/v1/apps/${app}/deployments`)).json.resources as Array<{ state: string }>;
            if (builds.some((b) => b.state === 'STAGING') || deployments.some((d) => d.state === 'DEPLOYING')) return false;
          }
          return true;
        }, { timeoutMs: 60_000 });
      },
      // A push that went through before the kill leaves its release: only that app may change then.
      mayChange: (key) => pushed?.code === 0 && key.startsWith('app:chaos-push'),
    });
    const lastLines = pushed!.output.trim().split('\n').slice(-3).join(' | ');
    console.log(`controller killed ${killedWhile}; the push ${pushed!.code === 0 ? 'succeeded' : `failed (exit ${pushed!.code}): ${lastLines}`}`);
    const releases = (await api(platform, 'GET', '/v1/apps/chaos-push/releases')).json.resources as unknown[];
    if (pushed!.code === 0) assert.equal(releases.length, 1, 'the push that went through made one release');
    else {
      assert.equal(releases.length, 0, `a failed push makes no release: ${pushed!.output}`);
      const builds = (await api(platform, 'GET', '/v1/apps/chaos-push/builds')).json.resources as Array<{ state: string; error: string | null }>;
      for (const b of builds) {
        assert.equal(b.state, 'FAILED', `the orphaned build ended FAILED: ${JSON.stringify(b)}`);
        assert.match(b.error ?? '', /controller/, 'its error names the controller that stopped');
      }
    }
    const again = await pushChaosApp(platform, work, 'chaos-push');
    assert.equal(again.code, 0, again.output);
    await pollUntil('chaos-push answers through the router', async () => (await viaRouter(platform, `chaos-push.${platform.appsDomain}`)).status === 200, { timeoutMs: 90_000 });
  });

  test('kill -9 of one of the two router processes: the other answers, the supervisor brings it back', async () => {
    assert.equal(DEFAULT_ROUTER_PROCESSES, 2);
    assert.deepEqual(platform.routers.map((r) => r.spec.name), ['router-1', 'router-2']);
    assert.ok(platform.routers.every((r) => r.spec.env.ROUTER_PORT === String(platform.routerPort) && r.spec.env.ROUTER_REUSE_PORT === 'true'), 'both on one port');
    noteRouterPids();
    const victim = supervised('router-1');
    let killed = 0;
    await runChaosCase(platform, {
      name: 'router process kill -9',
      host: host(),
      inject: async () => {
        killed = victim.pid!;
        process.kill(killed, 'SIGKILL');
      },
      recovered: async () => {
        await restarted('router-1', killed);
        await victim.whenReady(30_000);
      },
      allowedFailures: { count: 1, why: 'the request the killed process had in flight' },
      // The process is back within a second: a request every 5 ms, so that some meet the gap.
      pauseMs: 5,
    });
    noteRouterPids();
    assert.equal(pidAlive(killed), false);
  });

  test('a rolling restart of the router processes (npm run restart:router) fails no request', async () => {
    const before = platform.routers.map((r) => r.pid);
    const steps: string[] = [];
    await runChaosCase(platform, {
      name: 'rolling restart of the router processes',
      host: host(),
      // What `npm start` and `npm run restart:router` do, the runner being this process: the
      // request over the data dir's control socket, a line per step back.
      inject: async () => {
        const control = await serveRouterRestarts(platform.dataDir, platform, () => undefined);
        try {
          const outcome = await requestRouterRestart(platform.dataDir, 120_000, (step) => steps.push(step));
          assert.equal(outcome.event, 'done', outcome.message);
        } finally {
          await control.close();
        }
      },
      recovered: async () => undefined,
      pauseMs: 5,
    });
    noteRouterPids();
    assert.deepEqual(steps.map((s) => /^(router-\d) restarted: pid \d+ drained, pid \d+ serves$/.exec(s)?.[1]), ['router-1', 'router-2'], steps.join('\n'));
    for (const [i, router] of platform.routers.entries()) {
      assert.notEqual(router.pid, before[i], `${router.spec.name} runs a new process`);
      assert.equal(pidAlive(before[i]!), false, `the old ${router.spec.name} exited`);
    }
  });
});
