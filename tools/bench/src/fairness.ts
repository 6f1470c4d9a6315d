/**
 * tools/bench/fairness (`npm run bench:fairness`): does one app's flood slow another app on the
 * same router? On 127.0.0.1 only, in one run.
 *
 * It starts its own redis-server, two plain Node apps (fairness-backend.js, one process each:
 * "flood", answering after BENCH_FLOOD_DELAY_MS, and "quiet", answering at once), and one router
 * (`apps/router/dist/main.js`, access log on, as deployed) with a route to each. A probe sends a
 * GET to the quiet app every BENCH_PROBE_INTERVAL_MS over keep-alive connections (open loop: a
 * stall shows as many slow requests, not as fewer samples), through the router and, for
 * reference, to the app directly: first with nothing else running, then while wrk floods the
 * other app through the same router with BENCH_FLOOD_CONNECTIONS keep-alive connections for
 * BENCH_FLOOD_S seconds. It prints the quiet app's p50/p99/max in both phases, the ratio of the
 * p99s (goal: at most 3), what the flood got (2xx, the router's 503 app-overloaded), and the
 * router's overload metrics; BENCH_ROUNDS times (unloaded, then flood), then all rounds pooled.
 *
 * Environment: BENCH_ROUNDS (2), BENCH_FLOOD_CONNECTIONS (500), BENCH_FLOOD_S (15), BENCH_UNLOADED_S (6),
 * BENCH_PROBE_INTERVAL_MS (10), BENCH_FLOOD_DELAY_MS (5), BENCH_THREADS (2, wrk's),
 * BENCH_ROUTER_ENV (extra router env, "K=V,K=V";
 * "ROUTER_LISTENERS=1,ROUTER_APP_MAX_IN_FLIGHT=0" shows the router without its fairness measures),
 * BENCH_TRACE=1 prints the probes per second of the flood, BENCH_KEEP=1 keeps the temp dir,
 * BENCH_LOAD_NICE (0): the nice level of wrk and the flood app; 0: everything competes for the
 * cores, and the scheduler's delays to the quiet app (seen in "direct, during the flood") add to
 * the router's; 19: the load generator yields the cores, as it would from machines of its own
 * (less noise). Needs wrk and redis-server.
 */
import { redisKeys, ROUTER_NODE_FLAGS, type Endpoint, type RouteEntry } from '@paas/contracts';
import { redisLogin, redisUrlOf, writeRedisAcl } from '@paas/local-services';
import { createRedisConnection, registerEndpoint, writeHostRoutes } from '@paas/redis';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Children, freePort, hasBinary, httpStatus, tcpOpen, treeCpuSeconds, type Child } from './router-kit';
import { pollUntil } from '@paas/local-services';

const ROOT = resolve(__dirname, '..', '..', '..');
const ROUTER_MAIN = join(ROOT, 'apps', 'router', 'dist', 'main.js');
const BACKEND = join(__dirname, 'fairness-backend.js');
const FLOOD_HOST = 'flood.local';
const QUIET_HOST = 'quiet.local';
const PREFIX = 'bench-fairness';
/** The ratio the issue asks for: the quiet app's p99 under the flood over its unloaded p99. */
const GOAL_RATIO = 3;

const envInt = (name: string, dflt: number, min = 1) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}`);
  return v;
};
const floodConnections = envInt('BENCH_FLOOD_CONNECTIONS', 500);
const floodS = envInt('BENCH_FLOOD_S', 15);
const unloadedS = envInt('BENCH_UNLOADED_S', 6);
const probeIntervalMs = envInt('BENCH_PROBE_INTERVAL_MS', 10);
const floodDelayMs = envInt('BENCH_FLOOD_DELAY_MS', 5, 0);
const wrkThreads = envInt('BENCH_THREADS', 2);
const rounds = envInt('BENCH_ROUNDS', 2);
const loadNice = envInt('BENCH_LOAD_NICE', 0, 0);
/** `cmd args` at the load generator's nice level (BENCH_LOAD_NICE). */
const asLoad = (cmd: string, args: string[]): [string, string[]] => (loadNice > 0 ? ['nice', ['-n', String(loadNice), cmd, ...args]] : [cmd, args]);
const extraRouterEnv = Object.fromEntries(
  (process.env.BENCH_ROUTER_ENV ?? '')
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()]),
);

/** Latencies (ms) of one probe phase, and the probes that failed or got no 200. */
interface ProbeResult {
  latencies: number[];
  /** When each answered probe was sent, ms after the phase began (same order as `latencies`). */
  sentAt: number[];
  failed: number;
  /** Probes not sent because too many were still waiting (a stall). */
  skipped: number;
}

const PROBE_TIMEOUT_MS = 15_000;
const MAX_PROBES_IN_FLIGHT = 200;

/**
 * GETs to 127.0.0.1:port with `host`, one every `intervalMs` for `durationMs`, over a keep-alive
 * agent; waits for the stragglers (each bounded by PROBE_TIMEOUT_MS).
 */
async function probe(port: number, host: string, durationMs: number, intervalMs: number): Promise<ProbeResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_PROBES_IN_FLIGHT });
  const result: ProbeResult = { latencies: [], sentAt: [], failed: 0, skipped: 0 };
  const phaseStart = performance.now();
  const pending = new Set<Promise<void>>();
  const one = () =>
    new Promise<void>((done) => {
      const t0 = performance.now();
      const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) {
            result.latencies.push(performance.now() - t0);
            result.sentAt.push(t0 - phaseStart);
          } else result.failed += 1;
          done();
        });
        res.on('error', () => {
          result.failed += 1;
          done();
        });
      });
      req.setTimeout(PROBE_TIMEOUT_MS, () => req.destroy(new Error('probe timed out')));
      req.on('error', () => {
        result.failed += 1;
        done();
      });
      req.end();
    });
  const end = performance.now() + durationMs;
  for (let next = performance.now(); next < end; next += intervalMs) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    if (pending.size >= MAX_PROBES_IN_FLIGHT) {
      result.skipped += 1;
      continue;
    }
    const p = one().finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
  agent.destroy();
  return result;
}

const emptyProbes = (): ProbeResult => ({ latencies: [], sentAt: [], failed: 0, skipped: 0 });
function pool(into: ProbeResult, r: ProbeResult): void {
  into.latencies.push(...r.latencies);
  into.sentAt.push(...r.sentAt);
  into.failed += r.failed;
  into.skipped += r.skipped;
}

const percentile = (sorted: readonly number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!);

interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  failed: number;
  skipped: number;
}

function summarise(r: ProbeResult): Summary {
  const s = [...r.latencies].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s.at(-1) ?? NaN, failed: r.failed, skipped: r.skipped };
}

interface FloodResult {
  requests: number;
  reqPerSec: number;
  non2xx: number;
  socketErrors: number;
  p50: string;
  p99: string;
}

/** wrk against the router for `host` (bounded by -d, and a kill deadline). */
function flood(port: number, host: string): Promise<FloodResult> {
  const args = [`-t${wrkThreads}`, `-c${floodConnections}`, `-d${floodS}s`, '--timeout', '10s', '--latency', '-H', `Host: ${host}`, `http://127.0.0.1:${port}/`];
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(...asLoad('wrk', args), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const guard = setTimeout(() => proc.kill('SIGKILL'), (floodS + 20) * 1_000);
    proc.on('error', (err) => {
      clearTimeout(guard);
      reject(err);
    });
    proc.on('close', (code) => {
      clearTimeout(guard);
      const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      if (code !== 0 || !/Requests\/sec/.test(out)) return reject(new Error(`wrk exited with ${code}:\n${out}`));
      resolvePromise({
        requests: num(/(\d+) requests in/),
        reqPerSec: num(/Requests\/sec:\s+([\d.]+)/),
        non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/),
        socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
        p50: /^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? '?',
        p99: /^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '?',
      });
    });
  });
}

/** The router's Prometheus text, from its admin port; '' when it does not answer. */
function scrape(adminPort: number): Promise<string> {
  return new Promise((resolvePromise) => {
    const req = request({ host: '127.0.0.1', port: adminPort, path: '/metrics', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolvePromise(text));
    });
    req.setTimeout(5_000, () => req.destroy());
    req.on('error', () => resolvePromise(''));
    req.end();
  });
}

/** The overload lines of the router's metrics (rejections, queue), or a note that it has none. */
function overloadLines(metrics: string): string[] {
  const lines = metrics.split('\n').filter((l) => /^paas_router_(app_overload|app_queue|app_in_flight|app_bounds)/.test(l) || l.includes('code="app-overloaded"'));
  return lines.length > 0 ? lines : ['(the router exposes no app-overload metrics)'];
}

/** p50/p99/max of the probes sent in each second of a phase (BENCH_TRACE=1): where the slow ones were. */
function printPerSecond(r: ProbeResult, offsetS: number): void {
  const bySecond = new Map<number, number[]>();
  r.sentAt.forEach((at, i) => {
    const s = Math.floor(at / 1_000);
    bySecond.set(s, [...(bySecond.get(s) ?? []), r.latencies[i]!]);
  });
  for (const [s, xs] of [...bySecond].sort((a, b) => a[0] - b[0])) {
    const sorted = xs.sort((a, b) => a - b);
    console.log(`    t=${s + offsetS}s  n=${sorted.length}  p50 ${fmt(percentile(sorted, 0.5), 2)}  p99 ${fmt(percentile(sorted, 0.99), 2)}  max ${fmt(sorted.at(-1)!, 1)} ms`);
  }
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const row = (name: string, s: Summary) =>
  `  ${name.padEnd(34)}${String(s.n).padStart(7)}${fmt(s.p50, 2).padStart(10)}${fmt(s.p99, 2).padStart(10)}${fmt(s.max, 1).padStart(10)}${String(s.failed).padStart(8)}${String(s.skipped).padStart(9)}`;
const header = () => `  ${'quiet app'.padEnd(34)}${'probes'.padStart(7)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'max ms'.padStart(10)}${'failed'.padStart(8)}${'skipped'.padStart(9)}`;

async function main(): Promise<void> {
  if (!hasBinary('wrk')) throw new Error('missing wrk: install it (apt-get install -y wrk)');
  if (!hasBinary('redis-server')) throw new Error('missing redis-server: install it (apt-get install -y redis-server) or run tools/bootstrap.sh');
  if (!existsSync(ROUTER_MAIN) || !existsSync(BACKEND)) throw new Error(`build first: ${ROUTER_MAIN} or ${BACKEND} is missing (npm run build)`);

  const work = await mkdtemp(join(tmpdir(), 'paas-bench-fairness-'));
  const children = new Children();
  let redis: ReturnType<typeof createRedisConnection> | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: stopping`);
    void children
      .stopAll()
      .then(() => rm(work, { recursive: true, force: true }))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    console.log(
      `tools/bench/fairness: ${cpus().length} cores, node ${process.version}, load average ${loadavg().map((l) => fmt(l, 2)).join(' ')}, ` +
        `one router process, wrk and the flood app at nice ${loadNice}, temp dir ${work}`,
    );
    const redisPort = await freePort();
    const login = await redisLogin(work);
    const acl = await writeRedisAcl(work, login);
    children.start('redis-server', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work, '--aclfile', acl], join(work, 'redis.log'));
    await pollUntil('redis-server', () => tcpOpen(redisPort), { timeoutMs: 10_000, intervalMs: 50 });
    const redisUrl = redisUrlOf('127.0.0.1', redisPort, login);
    redis = createRedisConnection(redisUrl, 'bench-fairness');
    const keys = redisKeys(PREFIX);

    const startApp = async (name: string, host: string, delayMs: number, load: boolean): Promise<{ port: number; child: Child }> => {
      const port = await freePort();
      const command: [string, string[]] = [process.execPath, [BACKEND, String(port), String(delayMs)]];
      const child = children.start(`${name} app`, ...(load ? asLoad(...command) : command), join(work, `${name}.log`));
      await pollUntil(`the ${name} app`, async () => (await httpStatus(port, host)) === 200, { timeoutMs: 10_000, intervalMs: 50 });
      const appId = `bench-${name}`;
      const route: RouteEntry = { routeId: `route-${name}`, host, path: '', destinations: [{ id: `dest-${name}`, appId, processType: 'web', port }] };
      const endpoint: Endpoint = {
        instanceId: `${appId}-web-0`,
        appId,
        processType: 'web',
        index: 0,
        address: `127.0.0.1:${port}`,
        cellId: 'bench-cell',
        expiresAt: Date.now() + 24 * 3600 * 1000,
      };
      await writeHostRoutes(redis!, keys, host, [route]);
      await registerEndpoint(redis!, keys, endpoint);
      return { port, child };
    };
    const floodApp = await startApp('flood', FLOOD_HOST, floodDelayMs, true);
    const quietApp = await startApp('quiet', QUIET_HOST, 0, false);
    console.log(`apps: plain Node servers, flood answers after ${floodDelayMs} ms (127.0.0.1:${floodApp.port}), quiet at once (127.0.0.1:${quietApp.port})`);

    const routerPort = await freePort();
    const adminPort = await freePort();
    const routerLog = join(work, 'router.log');
    const router = children.start('router', process.execPath, [...ROUTER_NODE_FLAGS, ROUTER_MAIN], routerLog, {
      ...process.env,
      ROUTER_PORT: String(routerPort),
      ROUTER_HOST: '127.0.0.1',
      ROUTER_ADMIN_PORT: String(adminPort),
      REDIS_URL: redisUrl,
      PAAS_REDIS_PREFIX: PREFIX,
      LOG_LEVEL: 'info',
      ...extraRouterEnv,
    });
    await pollUntil(`the router to route both apps (log: ${routerLog})`, async () => {
      if (router.proc.exitCode !== null) throw new Error(`the router exited with ${router.proc.exitCode}: see ${routerLog}`);
      return (await httpStatus(routerPort, FLOOD_HOST)) === 200 && (await httpStatus(routerPort, QUIET_HOST)) === 200;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    const shownEnv = Object.entries(extraRouterEnv).map(([k, v]) => `${k}=${v}`).join(' ');
    console.log(`router: apps/router/dist/main.js on 127.0.0.1:${routerPort}, LOG_LEVEL=info (access log to a file)${shownEnv ? `, ${shownEnv}` : ''}`);

    // Warm-up: JIT, keep-alive pools.
    await probe(routerPort, QUIET_HOST, 1_000, 2);
    await probe(routerPort, FLOOD_HOST, 1_000, 2);

    const pooled = { unloaded: emptyProbes(), loaded: emptyProbes(), unloadedDirect: emptyProbes(), loadedDirect: emptyProbes() };
    for (let round = 1; round <= rounds; round++) {
      console.log(`\n== round ${round}/${rounds}: unloaded ${unloadedS} s (a probe every ${probeIntervalMs} ms), then wrk -t${wrkThreads} -c${floodConnections} -d${floodS}s to ${FLOOD_HOST} through the router, probed from 1 s in to 1 s before its end ==`);
      await sleep(2_000); // the previous flood's connections are gone, its app's bound grows back
      const [unloaded, unloadedDirect] = await Promise.all([
        probe(routerPort, QUIET_HOST, unloadedS * 1_000, probeIntervalMs),
        probe(quietApp.port, QUIET_HOST, unloadedS * 1_000, probeIntervalMs * 5),
      ]);
      const cpu0 = treeCpuSeconds(router.proc.pid as number);
      const t0 = performance.now();
      const flooding = flood(routerPort, FLOOD_HOST);
      await sleep(1_000);
      const [loaded, loadedDirect] = await Promise.all([
        probe(routerPort, QUIET_HOST, (floodS - 2) * 1_000, probeIntervalMs),
        probe(quietApp.port, QUIET_HOST, (floodS - 2) * 1_000, probeIntervalMs * 5),
      ]);
      const floodResult = await flooding;
      const routerCpu = (100 * (treeCpuSeconds(router.proc.pid as number).total - cpu0.total)) / ((performance.now() - t0) / 1_000);
      console.log(header());
      console.log(row('through the router, unloaded', summarise(unloaded)));
      console.log(row('through the router, during the flood', summarise(loaded)));
      console.log(row('direct, unloaded', summarise(unloadedDirect)));
      console.log(row('direct, during the flood', summarise(loadedDirect)));
      if (process.env.BENCH_TRACE === '1') {
        console.log('  quiet app through the router during the flood, by second of the flood:');
        printPerSecond(loaded, 1);
      }
      const ok = floodResult.requests - floodResult.non2xx;
      console.log(
        `  flood: ${floodResult.requests} requests (${fmt(floodResult.reqPerSec, 0)}/s), ${ok} 2xx, ${floodResult.non2xx} non-2xx, ${floodResult.socketErrors} socket errors, ` +
          `wrk p50 ${floodResult.p50} p99 ${floodResult.p99}; router cpu ${fmt(routerCpu, 0)}% of a core`,
      );
      pool(pooled.unloaded, unloaded);
      pool(pooled.loaded, loaded);
      pool(pooled.unloadedDirect, unloadedDirect);
      pool(pooled.loadedDirect, loadedDirect);
    }

    const u = summarise(pooled.unloaded);
    const l = summarise(pooled.loaded);
    console.log(`\n== all ${rounds} rounds pooled ==`);
    console.log(header());
    console.log(row('through the router, unloaded', u));
    console.log(row('through the router, during the flood', l));
    console.log(row('direct, unloaded', summarise(pooled.unloadedDirect)));
    console.log(row('direct, during the flood', summarise(pooled.loadedDirect)));
    for (const line of overloadLines(await scrape(adminPort))) console.log(`  ${line}`);
    const ratio = l.p99 / u.p99;
    const met = ratio <= GOAL_RATIO && l.failed === 0 && l.skipped === 0;
    console.log(
      `\n  quiet app p99 during the flood / unloaded: ${fmt(l.p99, 2)} / ${fmt(u.p99, 2)} ms = ${fmt(ratio, 2)}x ` +
        `(p50 ${fmt(l.p50, 2)} / ${fmt(u.p50, 2)} ms = ${fmt(l.p50 / u.p50, 2)}x)  [goal: p99 <= ${GOAL_RATIO}x with no failed probe: ${met ? 'goal met' : 'goal NOT met'}]`,
    );
    console.log('note: wrk, the router, both apps and the probe share this machine\'s cores; other work running at the same time adds noise.');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    redis?.disconnect();
    await children.stopAll();
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('bench:fairness failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
