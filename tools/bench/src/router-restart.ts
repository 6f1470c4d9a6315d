/**
 * tools/bench/router-restart: what a router process death or restart costs the requests going
 * through it (issue 13: kill -9 of the router failed 51 of 1,078 requests, a 2.9 s gap). Real
 * `apps/router/dist/main.js` processes on one port (ROUTER_REUSE_PORT), each under its own
 * SupervisedProcess as `npm start` runs them, a private redis-server and an in-process backend,
 * all on 127.0.0.1. Cases, side by side:
 *   - 1 process, kill -9: the old single-process behaviour (its supervisor restarts it);
 *   - 2 processes, kill -9 of one: only its in-flight requests should fail;
 *   - 1 process, rolling restart: new process ready first, then the old one drains;
 *   - 2 processes, rolling restart: one after the other (RunningPlatform.restartRouters).
 * Each runs BENCH_RUNS times (default 3, at most 10) under a bounded loop of BENCH_CLIENTS clients
 * (default 8: half on keep-alive connections, half on a new connection per request, 10 ms apart;
 * at most 20,000 requests or 60 s a run) and prints failed/total and the longest stretch without a
 * success (the gap). Sets net.ipv4.tcp_migrate_req=1 as the platform does, and says so.
 */
import { redisKeys, ROUTER_NODE_FLAGS } from '@paas/contracts';
import { enableTcpMigrateReq, prepareRedis, redisProcess, redisUrlOf, SupervisedProcess, startRequestLoop, freePort, type RequestLoopResult, pollUntil } from '@paas/local-services';
import { createRedisConnection, registerEndpoint, writeHostRoutes } from '@paas/redis';
import { ROOT } from '@paas/test-platform';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNS = Math.min(Math.max(Number(process.env.BENCH_RUNS ?? 3) || 3, 1), 10);
const CLIENTS = Math.min(Math.max(Number(process.env.BENCH_CLIENTS ?? 8) || 8, 2), 64);
const HOST = 'restart-bench.apps.localhost';
const PREFIX = `bench-restart-${process.pid}`;
/** Traffic after the router is back, so that the loop sees the recovered state too. */
const TAIL_REQUESTS = 300;

interface Case {
  name: string;
  processes: number;
  action: 'kill -9' | 'rolling restart';
}
const CASES: Case[] = [
  { name: '1 process, kill -9 (old behaviour)', processes: 1, action: 'kill -9' },
  { name: '2 processes, kill -9 of one', processes: 2, action: 'kill -9' },
  { name: '1 process, rolling restart', processes: 1, action: 'rolling restart' },
  { name: '2 processes, rolling restart', processes: 2, action: 'rolling restart' },
];

async function startRouters(count: number, dir: string, port: number, redisUrl: string): Promise<SupervisedProcess[]> {
  const routers = Array.from(
    { length: count },
    (_, i) =>
      new SupervisedProcess({
        name: `router-${i + 1}`,
        command: process.execPath,
        args: [...ROUTER_NODE_FLAGS, join(ROOT, 'apps', 'router', 'dist', 'main.js')],
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          REDIS_URL: redisUrl,
          PAAS_REDIS_PREFIX: PREFIX,
          ROUTER_PORT: String(port),
          ROUTER_HOST: '127.0.0.1',
          ROUTER_REUSE_PORT: 'true',
          ROUTER_SHUTDOWN_TIMEOUT_MS: '10000',
          LOG_LEVEL: 'warn',
        },
        logFile: join(dir, 'logs', `router-${i + 1}.log`),
        restart: true,
        readyMessage: 'paas-router:ready',
      }),
  );
  for (const router of routers) router.start();
  await Promise.all(routers.map((r) => r.whenReady(30_000)));
  return routers;
}

/** One run of a case on fresh router processes: the loop, the action once it runs, recovery, a tail. */
async function runCase(c: Case, dir: string, redisUrl: string): Promise<RequestLoopResult> {
  const port = await freePort();
  const routers = await startRouters(c.processes, dir, port, redisUrl);
  try {
    const loop = startRequestLoop({
      port,
      host: HOST,
      keepAliveClients: CLIENTS / 2,
      freshClients: CLIENTS - CLIENTS / 2,
      pauseMs: 10,
      maxRequests: 20_000,
      maxMs: 60_000,
    });
    await pollUntil('the loop to get going', async () => loop.ok() >= 100, { timeoutMs: 20_000, intervalMs: 10 });
    const target = routers[0]!;
    if (c.action === 'kill -9') {
      const pid = target.pid!;
      process.kill(pid, 'SIGKILL');
      await pollUntil('the supervisor to restart it', async () => target.pid !== undefined && target.pid !== pid, { timeoutMs: 30_000, intervalMs: 10 });
      await target.whenReady(30_000);
    } else {
      for (const router of routers) await router.replace(30_000);
    }
    const okAfter = loop.ok();
    await pollUntil('traffic after the recovery', async () => loop.ok() >= okAfter + TAIL_REQUESTS, { timeoutMs: 30_000, intervalMs: 10 });
    return await loop.stop();
  } finally {
    await Promise.all(routers.map((r) => r.stop()));
  }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'paas-bench-router-restart-'));
  await mkdir(join(dir, 'logs'), { recursive: true });
  let redis: SupervisedProcess | undefined;
  let backend: Server | undefined;
  try {
    const migrate = await enableTcpMigrateReq();
    const redisPort = await freePort();
    const login = await prepareRedis(dir);
    redis = redisProcess(ROOT, dir, redisPort, () => undefined);
    redis.start();
    const redisUrl = redisUrlOf('127.0.0.1', redisPort, login);
    const client = createRedisConnection(redisUrl, 'bench-router-restart');
    await pollUntil('redis', async () => (await client.ping()) === 'PONG', { timeoutMs: 20_000 });
    backend = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => backend!.listen(0, '127.0.0.1', resolve));
    const keys = redisKeys(PREFIX);
    const appId = 'app-restart-bench';
    await registerEndpoint(client, keys, {
      instanceId: `${appId}-0`,
      appId,
      processType: 'web',
      index: 0,
      address: `127.0.0.1:${(backend.address() as AddressInfo).port}`,
      cellId: 'bench',
      expiresAt: Date.now() + 3_600_000,
    });
    await writeHostRoutes(client, keys, HOST, [{ routeId: 'route-bench', host: HOST, path: '', destinations: [{ id: 'dest-bench', appId, processType: 'web', port: 8080 }] }]);
    client.disconnect();

    console.log(
      `router restart bench: ${RUNS} runs per case, ${CLIENTS} clients (${CLIENTS / 2} keep-alive, ${CLIENTS - CLIENTS / 2} new connection per request, 10 ms apart), ` +
        `net.ipv4.tcp_migrate_req ${migrate === 'set' ? 'set to 1 by this bench' : migrate === 'on' ? '1' : migrate}`,
    );
    const rows: string[][] = [['case', 'failed / total per run', 'gap p50', 'gap max']];
    for (const c of CASES) {
      const results: RequestLoopResult[] = [];
      for (let run = 0; run < RUNS; run++) {
        const result = await runCase(c, dir, redisUrl);
        results.push(result);
        console.log(`  ${c.name}, run ${run + 1}: ${result.failed} failed / ${result.total}, gap ${result.gapMs} ms${result.failures.length ? ` (first: ${result.failures[0]})` : ''}`);
      }
      const gaps = results.map((r) => r.gapMs).sort((a, b) => a - b);
      rows.push([c.name, results.map((r) => `${r.failed}/${r.total}`).join('  '), `${pct(gaps, 50)} ms`, `${gaps.at(-1)} ms`]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log('');
    for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
  } finally {
    backend?.closeAllConnections();
    backend?.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
