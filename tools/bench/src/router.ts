/**
 * tools/bench/router (`npm run bench:router`): the router's throughput and latency against nginx
 * configured as an equivalent reverse proxy, in one run, on 127.0.0.1 only.
 *
 * It starts its own redis-server, one backend (nginx answering a fixed 100-byte body from memory:
 * a Node backend would need as much CPU as the proxies themselves and would cap both), the router
 * (`apps/router/dist/main.js`, bound to `bench.local` through Redis like the controller and a cell
 * would) with and without access logs, and nginx as a proxy to the same backend (keep-alive
 * upstream, same number of worker processes, the same forwarding headers). Then wrk runs against
 * each in turn, rotating the order every round; the bench prints req/s, p50, p99 and the CPU
 * used, the medians, and the ratio router/nginx. Then the same for two minimal proxies, one on
 * `http-proxy` and one on `http-proxy-3` (same keep-alive agent), and a CPU profile of the router
 * under load (`node --cpu-prof`), summarised.
 *
 * Environment: BENCH_ROUNDS (3), BENCH_DURATION_S (5), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
 * BENCH_WORKERS (1: router processes on one port with ROUTER_REUSE_PORT, or the cluster workers of
 * an older router's ROUTER_WORKERS; nginx gets as many worker processes), BENCH_LIBS=0 skips the
 * library comparison, BENCH_PROFILE=0 skips the profile, BENCH_TLS=0 skips the HTTPS comparison
 * (router-tls.ts: keep-alive req/s and new handshakes/s against nginx with the same certificate),
 * BENCH_KEEP=1 keeps the temp dir.
 * Needs wrk, nginx and redis-server; as root it installs wrk and nginx-light with apt-get.
 */
import { redisKeys, ROUTER_NODE_FLAGS, type Endpoint, type RouteEntry } from '@paas/contracts';
import { redisLogin, redisUrlOf, writeRedisAcl } from '@paas/local-services';
import { createRedisConnection, registerEndpoint, writeHostRoutes } from '@paas/redis';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  BACKEND_BODY,
  Children,
  backendNginxConf,
  freePort,
  hasBinary,
  httpStatus,
  proxyNginxConf,
  runWrk,
  tcpOpen,
  type Child,
  type WrkOptions,
} from './router-kit';
import { summariseProfile } from './router-profile';
import { compare, fmt, lpad, measure, medianRun, pad, printRun, printRunHeader, type Target } from './router-compare';
import { benchTls } from './router-tls';
import { pollUntil } from '@paas/local-services';

const ROOT = resolve(__dirname, '..', '..', '..');
const ROUTER_MAIN = join(ROOT, 'apps', 'router', 'dist', 'main.js');
const MINIMAL_PROXY = join(__dirname, 'router-minimal-proxy.js');
const HOST = 'bench.local';
const PREFIX = 'bench';

const envInt = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  return v;
};
const rounds = envInt('BENCH_ROUNDS', 3);
const wrkOpts: WrkOptions = {
  threads: envInt('BENCH_THREADS', 2),
  connections: envInt('BENCH_CONNECTIONS', 32),
  durationS: envInt('BENCH_DURATION_S', 5),
  host: HOST,
};
const requestedWorkers = envInt('BENCH_WORKERS', 1);

/** wrk and nginx present, installing them (Debian packages) when running as root. */
function ensureTools(): void {
  const missing = ['wrk', 'nginx'].filter((b) => !hasBinary(b));
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) {
      throw new Error(`missing ${missing.join(', ')}: install them, e.g. sudo apt-get install -y --no-install-recommends wrk nginx-light`);
    }
    console.log(`installing ${missing.join(', ')} (apt-get install wrk nginx-light)…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'wrk', 'nginx-light'], { stdio: 'inherit', env, timeout: 600_000 });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update'], { stdio: 'inherit', env, timeout: 600_000 });
      r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'wrk', 'nginx-light'], { stdio: 'inherit', env, timeout: 600_000 });
    }
    const still = ['wrk', 'nginx'].filter((b) => !hasBinary(b));
    if (r.status !== 0 || still.length > 0) throw new Error(`could not install ${still.join(', ') || 'wrk, nginx-light'} with apt-get`);
  }
  if (!hasBinary('redis-server')) throw new Error('missing redis-server: install it (apt-get install -y redis-server) or run tools/bootstrap.sh');
  if (!existsSync(ROUTER_MAIN)) throw new Error(`${ROUTER_MAIN} is missing: build the router first (npx tsc -b apps/router)`);
}

/** What the built router supports, read from its code at run time. */
function routerFeatures(): { workersEnv: boolean; reusePortEnv: boolean; accessLogEnv?: string; https: boolean } {
  const dist = join(ROOT, 'apps', 'router', 'dist');
  const code = readdirSync(dist)
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(dist, f), 'utf8'))
    .join('\n');
  const accessLog = /\b(ROUTER_ACCESS_LOGS?)\b/.exec(code);
  // A router with ROUTER_REUSE_PORT runs one process per worker and refuses ROUTER_WORKERS (node:cluster).
  const reusePortEnv = /\bROUTER_REUSE_PORT\b/.test(code);
  return { workersEnv: !reusePortEnv && /\bROUTER_WORKERS\b/.test(code), reusePortEnv, accessLogEnv: accessLog?.[1], https: /\bROUTER_HTTPS_PORT\b/.test(code) };
}


async function main(): Promise<void> {
  ensureTools();
  const features = routerFeatures();
  const multi = features.workersEnv || features.reusePortEnv;
  const workers = multi ? requestedWorkers : 1;
  if (requestedWorkers > 1 && !multi) console.log(`the router runs neither ROUTER_REUSE_PORT processes nor ROUTER_WORKERS: 1 process for both (BENCH_WORKERS=${requestedWorkers} ignored)`);

  const work = await mkdtemp(join(tmpdir(), 'paas-bench-router-'));
  await chmod(work, 0o755); // nginx workers may run as nobody
  const children = new Children();
  const redisPrefix = PREFIX;
  let redis: ReturnType<typeof createRedisConnection> | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: stopping`);
    children
      .stopAll()
      .then(() => rm(work, { recursive: true, force: true }))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    console.log(
      `tools/bench/router: ${cpus().length} cores, node ${process.version}, ${spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim()}, ` +
        `load average ${loadavg().map((l) => fmt(l)).join(' ')}, router processes: ${features.reusePortEnv ? 'ROUTER_REUSE_PORT, one port' : features.workersEnv ? 'ROUTER_WORKERS cluster' : 'one'}, ` +
        `worker processes per proxy: ${workers}, temp dir ${work}`,
    );

    // Redis, with the route to the backend written before the router boots.
    // With a password, as the platform's Redis: the router authenticates on each of its connections.
    const redisPort = await freePort();
    const login = await redisLogin(work);
    const acl = await writeRedisAcl(work, login);
    const redisChild = children.start('redis-server', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work, '--aclfile', acl], join(work, 'redis.log'));
    await pollUntil('redis-server', () => tcpOpen(redisPort), { timeoutMs: 10_000, intervalMs: 50 });
    void redisChild;
    const redisUrl = redisUrlOf('127.0.0.1', redisPort, login);
    redis = createRedisConnection(redisUrl, 'bench-router');

    // The backend: nginx answering a fixed body.
    const backendDir = join(work, 'backend');
    await mkdir(backendDir);
    const backendPort = await freePort();
    await writeFile(join(backendDir, 'nginx.conf'), backendNginxConf(backendDir, backendPort));
    const backend = children.start('backend nginx', 'nginx', ['-p', backendDir, '-c', join(backendDir, 'nginx.conf'), '-e', join(backendDir, 'error.log')], join(backendDir, 'stdout.log'));
    await pollUntil('the backend to answer 200', async () => (await httpStatus(backendPort, HOST)) === 200, { timeoutMs: 10_000, intervalMs: 50 });
    console.log(`backend: nginx on 127.0.0.1:${backendPort}, 1 worker, ${Buffer.byteLength(BACKEND_BODY)}-byte body`);

    const keys = redisKeys(redisPrefix);
    const appId = 'bench-app';
    const route: RouteEntry = {
      routeId: 'bench-route',
      host: HOST,
      path: '',
      destinations: [{ id: 'bench-destination', appId, processType: 'web', port: backendPort }],
    };
    const endpoint: Endpoint = {
      instanceId: 'bench-app-web-0',
      appId,
      processType: 'web',
      index: 0,
      address: `127.0.0.1:${backendPort}`,
      cellId: 'bench-cell',
      expiresAt: Date.now() + 365 * 24 * 3600 * 1000,
    };
    await writeHostRoutes(redis, keys, HOST, [route]);
    await registerEndpoint(redis, keys, endpoint);

    // The routers: access log on (LOG_LEVEL=info, one JSON line per request to a file), and off.
    const startRouter = async (name: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<Target> => {
      const port = await freePort();
      const logFile = join(work, `${name.replace(/[^a-z0-9]+/gi, '-')}.log`);
      const processes = features.reusePortEnv ? workers : 1;
      const [child, ...siblings] = Array.from({ length: processes }, (_, i) =>
        children.start(processes > 1 ? `${name} #${i + 1}` : name, process.execPath, [...ROUTER_NODE_FLAGS, ...nodeArgs, ROUTER_MAIN], logFile, {
          ...process.env,
          ROUTER_PORT: String(port),
          ROUTER_HOST: '127.0.0.1',
          REDIS_URL: redisUrl,
          PAAS_REDIS_PREFIX: redisPrefix,
          ...(features.workersEnv ? { ROUTER_WORKERS: String(workers) } : {}),
          ...(features.reusePortEnv ? { ROUTER_REUSE_PORT: String(processes > 1) } : {}),
          ...env,
        }),
      ) as [Child, ...Child[]];
      await pollUntil(`${name} to answer 200 for ${HOST} (log: ${logFile})`, async () => {
        const dead = [child, ...siblings].find((c) => c.proc.exitCode !== null);
        if (dead) throw new Error(`${dead.name} exited with ${dead.proc.exitCode}: see ${logFile}`);
        return (await httpStatus(port, HOST)) === 200;
      }, { timeoutMs: 30_000, intervalMs: 100 });
      return { name, port, child, siblings };
    };
    const noLogEnv: NodeJS.ProcessEnv = features.accessLogEnv ? { LOG_LEVEL: 'info', [features.accessLogEnv]: 'false' } : { LOG_LEVEL: 'warn' };
    const routerLogged = await startRouter('router (access log)', { LOG_LEVEL: 'info' });
    const routerQuiet = await startRouter(`router (no access log)`, noLogEnv);
    console.log(`router: apps/router/dist/main.js; "no access log" = ${Object.entries(noLogEnv).map(([k, v]) => `${k}=${v}`).join(' ')}; the access log goes to a file in the temp dir`);

    // nginx as the reference proxy.
    const proxyDir = join(work, 'nginx-proxy');
    await mkdir(proxyDir);
    const nginxPort = await freePort();
    await writeFile(join(proxyDir, 'nginx.conf'), proxyNginxConf(proxyDir, nginxPort, backendPort, workers));
    const nginxChild = children.start('nginx proxy', 'nginx', ['-p', proxyDir, '-c', join(proxyDir, 'nginx.conf'), '-e', join(proxyDir, 'error.log')], join(proxyDir, 'stdout.log'));
    await pollUntil('the nginx proxy to answer 200', async () => (await httpStatus(nginxPort, HOST)) === 200, { timeoutMs: 10_000, intervalMs: 50 });
    const nginx: Target = { name: 'nginx', port: nginxPort, child: nginxChild };

    const linesBefore = countLines(routerLogged.child.logFile);
    const quietBefore = countLines(routerQuiet.child.logFile);
    const runs = await compare('router vs nginx', [routerLogged, routerQuiet, nginx], backend, wrkOpts, rounds);
    const logged = countLines(routerLogged.child.logFile) - linesBefore;
    const quietLines = countLines(routerQuiet.child.logFile) - quietBefore;

    const n = medianRun('nginx', runs.get('nginx') ?? []);
    console.log('\nrouter / nginx (medians)');
    for (const t of [routerLogged, routerQuiet]) {
      const r = medianRun(t.name, runs.get(t.name) ?? []);
      const ratio = r.reqPerSec / n.reqPerSec;
      const dp99 = r.p99 - n.p99;
      const goal = ratio >= 0.6 && dp99 <= 2 ? 'goal met' : 'goal NOT met';
      console.log(`  ${pad(t.name, 26)} req/s ratio ${fmt(ratio)}  cpu/req ${fmt(r.cpuPerReqUs / n.cpuPerReqUs, 1)}x nginx's  p99 ${fmt(r.p99)} vs ${fmt(n.p99)} ms (${dp99 >= 0 ? '+' : ''}${fmt(dp99)} ms)  p50 ${fmt(r.p50)} vs ${fmt(n.p50)} ms  [goal: ratio >= 0.60, p99 within 2 ms: ${goal}]`);
    }
    console.log(`  access-log lines written during the runs: ${logged} (access log) / ${quietLines} (no access log)`);
    await children.stop(routerLogged.child);
    await children.stop(routerQuiet.child);
    await children.stop(nginxChild);

    if (process.env.BENCH_TLS !== '0') {
      if (features.https) await benchTls({ work, children, redis, keys, host: HOST, backend, backendPort, workers, wrkOpts, rounds, startRouter, quietEnv: noLogEnv });
      else console.log('\nthe built router has no TLS listener (ROUTER_HTTPS_PORT): HTTPS part skipped');
    }

    if (process.env.BENCH_LIBS !== '0') {
      const startMinimal = async (lib: string): Promise<Target> => {
        const port = await freePort();
        const child = children.start(lib, process.execPath, [MINIMAL_PROXY, lib, String(port), String(backendPort)], join(work, `${lib}.log`));
        await pollUntil(`the ${lib} proxy to answer 200`, async () => {
          if (child.proc.exitCode !== null) throw new Error(`${lib} proxy exited with ${child.proc.exitCode}: see ${child.logFile}`);
          return (await httpStatus(port, HOST)) === 200;
        }, { timeoutMs: 15_000, intervalMs: 100 });
        return { name: lib, port, child };
      };
      const a = await startMinimal('http-proxy');
      const b = await startMinimal('http-proxy-3');
      const libRuns = await compare('http-proxy vs http-proxy-3 (minimal proxies, keep-alive agent maxSockets 256)', [a, b], backend, wrkOpts, rounds);
      const ma = medianRun(a.name, libRuns.get(a.name) ?? []);
      const mb = medianRun(b.name, libRuns.get(b.name) ?? []);
      const better = ma.reqPerSec > mb.reqPerSec ? ma : mb;
      const worse = better === ma ? mb : ma;
      console.log(
        `\n  ${better.target} is faster: ${fmt(better.reqPerSec / worse.reqPerSec)}x the req/s of ${worse.target}; ` +
          `p99 ${fmt(better.p99)} vs ${fmt(worse.p99)} ms; http-proxy-3 / http-proxy req/s ratio ${fmt(mb.reqPerSec / ma.reqPerSec)}`,
      );
      await children.stop(a.child);
      await children.stop(b.child);
    }

    if (process.env.BENCH_PROFILE !== '0') {
      const profDir = join(work, 'prof');
      await mkdir(profDir);
      const prof = await startRouter('router (cpu profile)', { LOG_LEVEL: 'info' }, ['--cpu-prof', '--cpu-prof-dir', profDir]);
      console.log(`\n== CPU profile of the router (access log on), one ${wrkOpts.durationS}s wrk run (slower while profiling) ==`);
      await runWrk(prof.port, { ...wrkOpts, durationS: 2 });
      printRunHeader();
      printRun(await measure(prof, backend, wrkOpts));
      await children.stop(prof.child, 15_000); // the profile is written as the process exits
      let file = '';
      await pollUntil('the .cpuprofile', () => {
        file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) ?? '';
        return file !== '';
      }, { timeoutMs: 10_000, intervalMs: 100 });
      const summary = await summariseProfile(join(profDir, file));
      console.log(`self time by package (${fmt(summary.totalMs / 1_000, 1)} s sampled, idle included):`);
      for (const g of summary.groups) console.log(`  ${lpad(`${fmt(g.pct, 1)}%`, 7)}  ${g.name}`);
      console.log('top functions by self time:');
      for (const f of summary.functions) console.log(`  ${lpad(`${fmt(f.pct, 1)}%`, 7)}  ${f.name}`);
    }
    console.log('\nnote: wrk, the proxy and the backend share this machine\'s cores (see "machine"); other work running at the same time adds noise.');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    redis?.disconnect();
    await children.stopAll();
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

function countLines(file: string): number {
  try {
    const buf = readFileSync(file);
    let n = 0;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
    return n;
  } catch {
    return 0;
  }
}

main().catch((err: unknown) => {
  console.error('bench:router failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
