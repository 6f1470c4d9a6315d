/**
 * tools/bench/redis-rebuild: how long the platform takes to rebuild Redis after it restarted
 * EMPTY, on an isolated platform with two cells and an app of two instances on real runc
 * containers. Each run (BENCH_RUNS, default 3, at most 10) sends requests through the router in a
 * loop, stops the platform's Redis, removes its data, starts it on the same port, and measures
 * from that start until the route projection, both cells' presence, both instances (the same
 * ones, RUNNING) and their endpoints are back; it prints failed/total requests of the run, then
 * p50 and max of each figure. Traffic goes to 127.0.0.1 only; every loop and wait is bounded.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisKeys } from '@paas/contracts';
import { createRedisConnection, listLiveCells } from '@paas/redis';
import { ROOT, commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { benchApi, routerGet, waitForDeployed, webInstances } from './bench-kit';

const RUNS = Math.min(Math.max(Number(process.env.BENCH_RUNS ?? 3) || 3, 1), 10);
const APP = 'redis-rebuild-bench';
const WAIT_MS = 60_000;
/** After the last figure, the loop goes on this long (the convergence pause is 14 s). */
const SETTLE_MS = 16_000;
const MAX_REQUESTS = 50_000;
const SERVER = `require('node:http').createServer((req, res) => res.end('instance ' + process.env.INSTANCE_INDEX + '\\n')).listen(process.env.PORT);\n`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it is true; ms since `t0`. Throws after WAIT_MS. */
async function msUntil(what: string, t0: number, check: () => Promise<boolean>): Promise<number> {
  while (Date.now() - t0 < WAIT_MS) {
    if (await check().catch(() => false)) return Date.now() - t0;
    await sleep(50);
  }
  throw new Error(`${what} not back within ${WAIT_MS} ms`);
}

const runningIds = async (platform: TestPlatform) =>
  (await webInstances(platform, APP)).filter((i) => i.state === 'RUNNING').map((i) => i.instance_id).sort().join(',');

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'paas-bench-redis-'));
  let platform: TestPlatform | undefined;
  let probe: ReturnType<typeof createRedisConnection> | undefined;
  try {
    platform = await startIsolatedPlatform(2);
    const p = platform;
    probe = createRedisConnection(p.redisUrl, 'bench-redis-probe');
    const redis = probe;
    const keys = redisKeys(p.tag);
    const host = `${APP}.${p.appsDomain}`;
    await benchApi(p, 'POST', '/v1/apps', { name: APP });
    const dir = join(work, APP);
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await writeFile(join(dir, 'server.js'), SERVER);
    await commitDir(dir);
    const push = await git(['push', `http://paas:${p.adminToken}@127.0.0.1:${p.controllerPort}/git/${APP}.git`, 'main'], dir);
    if (push.code !== 0) throw new Error(`push failed:\n${push.output}`);
    await benchApi(p, 'POST', `/v1/apps/${APP}/processes/web/actions/scale`, { instances: 2 });
    await waitForDeployed(p, APP, 'the first release', { timeoutMs: WAIT_MS, pollMs: 200 });
    await msUntil('two instances', Date.now(), async () => (await runningIds(p)).split(',').length === 2);
    const appId = (await benchApi<{ id: string }>(p, 'GET', `/v1/apps/${APP}`)).id;

    const figures: Record<'routes' | 'presence' | 'instances' | 'endpoints', number[]> = { routes: [], presence: [], instances: [], endpoints: [] };
    for (let run = 1; run <= RUNS; run++) {
      const before = await runningIds(p);
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      let stop = false;
      let total = 0;
      let failed = 0;
      const loop = (async () => {
        for (const started = Date.now(); !stop && total < MAX_REQUESTS && Date.now() - started < 3 * WAIT_MS; total++) {
          if ((await routerGet(p, host, agent)).status !== 200) failed++;
        }
      })();
      await sleep(500);
      const supervised = p.processes.get('redis')!;
      await supervised.stop();
      await rm(join(p.dataDir, 'redis', 'appendonlydir'), { recursive: true, force: true });
      await rm(join(p.dataDir, 'redis', 'dump.rdb'), { force: true });
      supervised.start();
      const t0 = Date.now();
      const routes = await msUntil('the routes', t0, async () => (await redis.exists(keys.routesProjected, keys.hostRoutes(host))) === 2);
      const presence = await msUntil('the cells', t0, async () => (await listLiveCells(redis, keys)).length === 2);
      const instances = await msUntil('the instances', t0, async () => (await runningIds(p)) === before);
      const endpoints = await msUntil('the endpoints', t0, async () => (await redis.hlen(keys.endpoints(appId, 'web'))) === 2);
      await sleep(Math.max(0, SETTLE_MS - (Date.now() - t0)));
      stop = true;
      await loop;
      agent.destroy();
      const after = await runningIds(p);
      figures.routes.push(routes);
      figures.presence.push(presence);
      figures.instances.push(instances);
      figures.endpoints.push(endpoints);
      console.log(
        `run ${run}: ${failed} failed of ${total} requests; back after routes ${routes} ms, presence ${presence} ms, instances ${instances} ms, endpoints ${endpoints} ms; instances ${after === before ? 'kept' : `CHANGED (${before} -> ${after})`}`,
      );
    }
    const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length / 2) - 1]!;
    for (const [name, xs] of Object.entries(figures)) console.log(`${name.padEnd(9)} p50 ${p50(xs)} ms, max ${Math.max(...xs)} ms over ${xs.length} runs`);
  } finally {
    probe?.disconnect();
    await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
