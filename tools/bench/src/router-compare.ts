/**
 * The measuring part of tools/bench/router: wrk against each proxy in turn, rotating the order
 * every round, with the CPU its processes and the backend used; medians.
 */
import { machineCpu, median, runWrk, treeCpuSeconds, type Child, type WrkOptions, type WrkResult } from './router-kit';

/** One proxy under test: where it listens and which process tree does its work. */
export interface Target {
  name: string;
  port: number;
  child: Child;
  /** More processes serving the same port (router processes with ROUTER_REUSE_PORT). */
  siblings?: Child[];
  /** What wrk does differently against it (scheme, host to connect to, headers). */
  wrk?: Partial<WrkOptions>;
}

export interface Run extends WrkResult {
  target: string;
  /** CPU used by the proxy's processes, in % of one core, and the kernel's part of it. */
  proxyCpu: number;
  proxySys: number;
  /** Proxy CPU time per request, µs: the least noisy figure on a shared machine. */
  cpuPerReqUs: number;
  backendCpu: number;
  /** Whole machine busy, in % of all cores (wrk included). */
  machineBusy: number;
}


export const fmt = (n: number, d = 2) => n.toFixed(d);
export const pad = (s: string, n: number) => s.padEnd(n);
export const lpad = (s: string, n: number) => s.padStart(n);

export function printRunHeader(): void {
  console.log(
    `  ${pad('proxy', 26)}${lpad('req/s', 10)}${lpad('p50 ms', 9)}${lpad('p99 ms', 9)}${lpad('proxy cpu (sys)', 17)}${lpad('µs cpu/req', 12)}${lpad('backend', 9)}${lpad('machine', 9)}${lpad('errors', 8)}`,
  );
}

export function printRun(r: Run): void {
  console.log(
    `  ${pad(r.target, 26)}${lpad(fmt(r.reqPerSec, 0), 10)}${lpad(fmt(r.p50), 9)}${lpad(fmt(r.p99), 9)}${lpad(`${fmt(r.proxyCpu, 0)}% (${fmt(r.proxySys, 0)}%)`, 17)}${lpad(fmt(r.cpuPerReqUs, 1), 12)}${lpad(`${fmt(r.backendCpu, 0)}%`, 9)}${lpad(`${fmt(r.machineBusy, 0)}%`, 9)}${lpad(String(r.errors), 8)}`,
  );
}

/** One wrk run against `t`, with the CPU its processes and the backend used meanwhile. */
export async function measure(t: Target, backend: Child, opts: WrkOptions): Promise<Run> {
  const pids = [t.child, ...(t.siblings ?? [])].map((c) => c.proc.pid as number);
  const cpuOf = () =>
    pids.map(treeCpuSeconds).reduce((a, b) => ({ user: a.user + b.user, sys: a.sys + b.sys, total: a.total + b.total }), { user: 0, sys: 0, total: 0 });
  const bpid = backend.proc.pid as number;
  const cpu0 = cpuOf();
  const b0 = treeCpuSeconds(bpid);
  const m0 = machineCpu();
  const started = performance.now();
  const res = await runWrk(t.port, { ...opts, ...t.wrk });
  const elapsedS = (performance.now() - started) / 1_000;
  const m1 = machineCpu();
  const cpu1 = cpuOf();
  return {
    ...res,
    target: t.name,
    proxyCpu: (100 * (cpu1.total - cpu0.total)) / elapsedS,
    proxySys: (100 * (cpu1.sys - cpu0.sys)) / elapsedS,
    cpuPerReqUs: (1e6 * (cpu1.total - cpu0.total)) / Math.max(1, res.requests),
    backendCpu: (100 * (treeCpuSeconds(bpid).total - b0.total)) / elapsedS,
    machineBusy: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total),
  };
}

/** Warm-up, then `rounds` rounds over `targets`, rotating who goes first; returns the runs per target. */
export async function compare(title: string, targets: Target[], backend: Child, wrkOpts: WrkOptions, rounds: number): Promise<Map<string, Run[]>> {
  console.log(`\n== ${title}: wrk -t${wrkOpts.threads} -c${wrkOpts.connections} -d${wrkOpts.durationS}s --latency, ${rounds} rounds ==`);
  for (const t of targets) await runWrk(t.port, { ...wrkOpts, ...t.wrk, durationS: 2 }); // JIT, pools, caches
  const runs = new Map<string, Run[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < rounds; round++) {
    console.log(`round ${round + 1}/${rounds}`);
    printRunHeader();
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    for (const t of order) {
      const r = await measure(t, backend, wrkOpts);
      printRun(r);
      runs.get(t.name)?.push(r);
    }
  }
  console.log('medians');
  printRunHeader();
  for (const t of targets) printRun(medianRun(t.name, runs.get(t.name) ?? []));
  return runs;
}

export function medianRun(name: string, rs: Run[]): Run {
  return {
    target: name,
    reqPerSec: median(rs.map((r) => r.reqPerSec)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    requests: median(rs.map((r) => r.requests)),
    errors: rs.reduce((a, r) => a + r.errors, 0),
    proxyCpu: median(rs.map((r) => r.proxyCpu)),
    proxySys: median(rs.map((r) => r.proxySys)),
    cpuPerReqUs: median(rs.map((r) => r.cpuPerReqUs)),
    backendCpu: median(rs.map((r) => r.backendCpu)),
    machineBusy: median(rs.map((r) => r.machineBusy)),
  };
}
