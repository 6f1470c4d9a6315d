/**
 * tools/bench/cpu-neighbour: what one tenant's spinning app does to its neighbour's latency on
 * the same cell, with and without a CPU quota. One isolated platform with one cell runs three
 * apps; CPU shares follow memory, and the spinners have BENCH_CPU_SPINNER_MEMORY (default 2G,
 * so 8 times the neighbour's 256 MB weight: a tenant that bought more memory; 256M gives equal
 * shares):
 *   - `cpu-nb`, the neighbour: each request does a fixed amount of CPU work (BENCH_CPU_WORK loop
 *     iterations, default 300,000: about a millisecond, as rendering a small page) and answers, so
 *     it needs CPU time, not only a wake-up;
 *   - `cpu-free`, a spinner without a quota, and `cpu-capped`, the same spinner pushed with
 *     `cpu: 0.5` in its manifest.yml. A spinner runs BENCH_CPU_THREADS (default 4) worker threads
 *     that spin while `/spin?on=1` is set and sleep otherwise, so the bench switches between
 *     conditions in a request instead of a deployment.
 * Rounds alternate idle / cpu-free spinning / cpu-capped spinning, BENCH_CPU_CYCLES times (default
 * 6); in each, BENCH_CPU_REQUESTS (default 200) neighbour requests, one every 20 ms, alternately
 * through the router and straight to its host port on the cell (open loop, so a slow answer does
 * not slow the sender). Short alternating rounds
 * spread whatever else the host runs over all three conditions. Printed: p50/p99/max per
 * condition over all its rounds, the median of its rounds' p99 (less swayed by one noisy round),
 * each round's p50/p99, the cores the spinner used (its own process.cpuUsage over the round),
 * and the ratios.
 * Traffic goes to 127.0.0.1 only (router, API); every loop is bounded in count and time; the
 * platform and everything it made are removed at the end, also on failure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchApi, routerGet, waitForDeployed } from './bench-kit';
import { commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, writeFiles, type TestPlatform } from '@paas/test-platform';

const REQUESTS = Math.min(2_000, Number(process.env.BENCH_CPU_REQUESTS ?? 200));
const CYCLES = Math.min(20, Number(process.env.BENCH_CPU_CYCLES ?? 6));
const WORK = Math.min(50_000_000, Number(process.env.BENCH_CPU_WORK ?? 300_000));
const THREADS = Math.min(16, Number(process.env.BENCH_CPU_THREADS ?? 4));
const GAP_MS = 20;
/** After switching a spinner, before measuring: its threads wake at once; the scheduler settles within a few periods. */
const SETTLE_MS = 300;
const DEPLOY_TIMEOUT_MS = 180_000;
const NEIGHBOUR = 'cpu-nb';
const FREE = 'cpu-free';
const CAPPED = 'cpu-capped';
const QUOTA = '0.5';
const SPINNER_MEMORY = /^\d+[MG]$/.test(process.env.BENCH_CPU_SPINNER_MEMORY ?? '') ? process.env.BENCH_CPU_SPINNER_MEMORY! : '2G';
const spinnerMb = Number(SPINNER_MEMORY.slice(0, -1)) * (SPINNER_MEMORY.endsWith('G') ? 1024 : 1);

const NEIGHBOUR_JS = `
const http = require('node:http');
const work = Number(process.env.WORK);
http.createServer((req, res) => {
  let x = 0;
  for (let i = 0; i < work; i++) x = (x + i * 7) % 1000003;
  res.end('neighbour ' + x + '\\n');
}).listen(Number(process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`;

const SPINNER_JS = `
const http = require('node:http');
const { Worker } = require('node:worker_threads');
const flag = new Int32Array(new SharedArrayBuffer(4));
const spin = \`
  const { workerData } = require('node:worker_threads');
  const flag = new Int32Array(workerData);
  let x = 0;
  for (;;) {
    if (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0);
    for (let i = 0; i < 1e6; i++) x = (x + i) % 1000003;
  }
\`;
for (let i = 0; i < Number(process.env.SPIN_THREADS || 4); i++) new Worker(spin, { eval: true, workerData: flag.buffer });
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  if (url.pathname === '/spin') {
    Atomics.store(flag, 0, url.searchParams.get('on') === '1' ? 1 : 0);
    Atomics.notify(flag, 0);
  }
  const u = process.cpuUsage();
  res.end(JSON.stringify({ spinning: Atomics.load(flag, 0) === 1, cpuMicros: u.user + u.system, at: Date.now() }) + '\\n');
}).listen(Number(process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const agent = new Agent({ keepAlive: true, maxSockets: 32 });
const host = (platform: TestPlatform, app: string) => `${app}.${platform.appsDomain}`;

/** Percentile (nearest rank); NaN when empty. */
function pct(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : '-');
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}x` : '-');

async function pushApp(platform: TestPlatform, work: string, app: string, files: Record<string, string>): Promise<void> {
  await benchApi(platform, 'POST', '/v1/apps', { name: app });
  const dir = join(work, app);
  await writeFiles(dir, { Procfile: 'web: node server.js\n', ...files });
  await commitDir(dir);
  const push = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${app}.git`, 'main'], dir);
  if (push.code !== 0) throw new Error(`push of ${app} failed:\n${push.output}`);
  await waitForDeployed(platform, app, app, { timeoutMs: DEPLOY_TIMEOUT_MS, pollMs: 250 });
  for (let i = 0; i < 150; i++) {
    if ((await routerGet(platform, host(platform, app), agent)).status === 200) return;
    await sleep(100);
  }
  throw new Error(`${app} does not answer through the router`);
}

/** Switches a spinner on or off; answers its process's CPU time so far (µs). */
async function spinner(platform: TestPlatform, app: string, on: boolean | undefined): Promise<number> {
  const r = await routerGet(platform, host(platform, app), agent, on === undefined ? '/' : `/spin?on=${on ? 1 : 0}`);
  if (r.status !== 200) throw new Error(`${app}: status ${r.status}`);
  return (JSON.parse(r.text) as { cpuMicros: number }).cpuMicros;
}

/** A GET straight to the neighbour's host port on the cell (its instance's address), bypassing the router. */
function directGet(address: string): Promise<number> {
  const [hostname, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const req = request({ host: hostname, port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(5_000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

type Path = 'router' | 'direct';

/**
 * REQUESTS neighbour requests, one every GAP_MS, alternately through the router and straight to
 * its host port; the latency of each 200 (ms) per path, and how many failed.
 */
async function neighbourRound(platform: TestPlatform, address: string): Promise<{ latencies: Record<Path, number[]>; failed: number }> {
  const latencies: Record<Path, number[]> = { router: [], direct: [] };
  let failed = 0;
  const inflight: Array<Promise<void>> = [];
  const t0 = Date.now();
  for (let i = 0; i < REQUESTS; i++) {
    const wait = t0 + i * GAP_MS - Date.now();
    if (wait > 0) await sleep(wait);
    const path: Path = i % 2 === 0 ? 'router' : 'direct';
    const start = process.hrtime.bigint();
    const status = path === 'router' ? routerGet(platform, host(platform, NEIGHBOUR), agent).then((r) => r.status) : directGet(address);
    inflight.push(
      status.then((code) => {
        if (code === 200) latencies[path].push(Number(process.hrtime.bigint() - start) / 1e6);
        else failed++;
      }),
    );
  }
  await Promise.all(inflight);
  return { latencies, failed };
}

type Condition = 'idle' | 'free' | 'capped';
const CONDITIONS = ['idle', 'free', 'capped'] as const;
const LABEL: Record<Condition, string> = { idle: 'idle (spinners asleep)', free: `${FREE} spinning, no quota`, capped: `${CAPPED} spinning, cpu ${QUOTA}` };
const byCondition = <T>(make: () => T): Record<Condition, T> => ({ idle: make(), free: make(), capped: make() });

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'paas-bench-cpu-'));
  let platform: TestPlatform | undefined;
  const out: string[] = [];
  try {
    const tBoot = Date.now();
    platform = await startIsolatedPlatform(1);
    const loadBefore = loadavg()[0];
    console.log(`platform up in ${Date.now() - tBoot} ms (1 cell, ${availableParallelism()} cores on this host, load average ${loadBefore.toFixed(2)})`);
    const tPush = Date.now();
    const spinnerFiles = (quota?: string) => ({
      'server.js': SPINNER_JS,
      'manifest.yml': `applications:\n- memory: ${SPINNER_MEMORY}\n${quota ? `  cpu: ${quota}\n` : ''}  env:\n    SPIN_THREADS: "${THREADS}"\n`,
    });
    await Promise.all([
      pushApp(platform, work, NEIGHBOUR, { 'server.js': NEIGHBOUR_JS, 'manifest.yml': `applications:\n- env:\n    WORK: "${WORK}"\n` }),
      pushApp(platform, work, FREE, spinnerFiles()),
      pushApp(platform, work, CAPPED, spinnerFiles(QUOTA)),
    ]);
    const processes = await benchApi<{ resources: Array<{ type: string; cpu_millicores: number | null }> }>(platform, 'GET', `/v1/apps/${CAPPED}/processes`);
    const quota = processes.resources.find((p) => p.type === 'web')?.cpu_millicores;
    if (quota !== 500) throw new Error(`${CAPPED} should run with cpu_millicores 500, has ${String(quota)}`);
    console.log(`${NEIGHBOUR}, ${FREE} and ${CAPPED} (cpu_millicores ${quota}) pushed and answering in ${Date.now() - tPush} ms`);
    const [instance] = await benchApi<{ resources: Array<{ address: string | null }> }>(platform, 'GET', `/v1/apps/${NEIGHBOUR}/instances`).then((r) => r.resources);
    if (!instance?.address) throw new Error(`${NEIGHBOUR} has no address`);
    // Warm the neighbour's paths (JIT, keep-alive sockets) before the first measured round.
    await neighbourRound(platform, instance.address);

    const all = { router: byCondition<number[]>(() => []), direct: byCondition<number[]>(() => []) };
    const roundP99 = { router: byCondition<number[]>(() => []), direct: byCondition<number[]>(() => []) };
    const rounds = byCondition<string[]>(() => []);
    const cores = byCondition<number[]>(() => []);
    let failed = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      for (const condition of CONDITIONS) {
        const app = condition === 'capped' ? CAPPED : FREE;
        if (condition !== 'idle') await spinner(platform, app, true);
        await sleep(SETTLE_MS);
        const cpu0 = await spinner(platform, app, undefined);
        const t0 = process.hrtime.bigint();
        const round = await neighbourRound(platform, instance.address);
        const used = (await spinner(platform, app, condition === 'idle' ? undefined : false)) - cpu0;
        const wallMicros = Number(process.hrtime.bigint() - t0) / 1e3;
        for (const path of ['router', 'direct'] as const) {
          all[path][condition].push(...round.latencies[path]);
          roundP99[path][condition].push(pct(round.latencies[path], 0.99));
        }
        failed += round.failed;
        cores[condition].push(used / wallMicros);
        rounds[condition].push(`${pct(round.latencies.router, 0.5).toFixed(1)}/${pct(round.latencies.router, 0.99).toFixed(1)}`);
        console.log(
          `cycle ${cycle + 1} ${LABEL[condition].padEnd(32)} router p50 ${ms(pct(round.latencies.router, 0.5))} p99 ${ms(pct(round.latencies.router, 0.99))}` +
            `  direct p50 ${ms(pct(round.latencies.direct, 0.5))} p99 ${ms(pct(round.latencies.direct, 0.99))}  spinner ${(used / wallMicros).toFixed(2)} cores` +
            `${round.failed ? `  (${round.failed} failed)` : ''}`,
        );
        await sleep(SETTLE_MS);
      }
    }

    const avg = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / Math.max(1, xs.length);
    const medianP99 = (path: Path, c: Condition) => pct(roundP99[path][c], 0.5);
    const row = (path: Path, c: Condition) =>
      `  ${LABEL[c].padEnd(34)} ${ms(pct(all[path][c], 0.5)).padStart(9)} ${ms(pct(all[path][c], 0.99)).padStart(9)} ${ms(medianP99(path, c)).padStart(9)} ` +
      `${ms(pct(all[path][c], 1)).padStart(9)}   ${avg(cores[c]).toFixed(2).padStart(5)}`;
    const ratios = (path: Path, a: Condition, b: Condition) =>
      `p50 ${ratio(pct(all[path][a], 0.5), pct(all[path][b], 0.5))}, p99 ${ratio(pct(all[path][a], 0.99), pct(all[path][b], 0.99))}, ` +
      `median round p99 ${ratio(medianP99(path, a), medianP99(path, b))}`;
    const table = (path: Path, title: string) => [
      `  ${title}`,
      `  ${'condition'.padEnd(34)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'p99 rnd'.padStart(9)} ${'max'.padStart(9)}   cores`,
      ...CONDITIONS.map((c) => row(path, c)),
      `    no quota vs idle:     ${ratios(path, 'free', 'idle')}`,
      `    cpu ${QUOTA} vs idle:      ${ratios(path, 'capped', 'idle')}`,
      `    no quota vs cpu ${QUOTA}:  ${ratios(path, 'free', 'capped')}`,
    ];
    const answered = CONDITIONS.reduce((sum, c) => sum + all.router[c].length + all.direct[c].length, 0);
    out.push(
      `cpu-neighbour (1 cell, ${availableParallelism()} cores; ${NEIGHBOUR}: ${WORK} loop iterations per request, ${REQUESTS} requests per round, one per ${GAP_MS} ms, alternating router and host port;` +
        ` spinners: ${THREADS} threads, ${SPINNER_MEMORY} (CPU shares ${spinnerMb} vs the neighbour's 256); ${CYCLES} cycles of idle / no quota / cpu ${QUOTA})`,
      ...table('router', 'through the router'),
      ...table('direct', "straight to the neighbour's host port on the cell"),
      `  per round p50/p99 through the router (ms):`,
      ...CONDITIONS.map((c) => `    ${c.padEnd(7)} ${rounds[c].join('  ')}`),
      `  requests answered ${answered}, failed ${failed}; "p99 rnd" is the median of the rounds' p99, "cores" the spinner's CPU over its rounds`,
      `  host load average (1 min) ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after (other work on this host competes with every condition alike)`,
    );
  } finally {
    if (platform) {
      // Never leave a spinner spinning while the platform stops.
      for (const app of [FREE, CAPPED]) await spinner(platform, app, false).catch(() => undefined);
    }
    agent.destroy();
    const leftovers = await stopIsolatedPlatform(platform).catch((error: Error) => [`stop failed: ${error.message}`]);
    if (leftovers.length > 0) console.error(`left behind on the host: ${leftovers.join('; ')}`);
    await rm(work, { recursive: true, force: true });
  }
  console.log(`\n${out.join('\n')}`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
