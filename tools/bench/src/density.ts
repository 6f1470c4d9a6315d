/**
 * tools/bench/density: how many idle instances of a small Node app two cells on this machine hold,
 * and what each container costs beyond the app's own memory.
 *
 * Starts an isolated platform with two cells, pushes examples/hello-node with the real git client,
 * lowers the web process to BENCH_MEMORY_MB (default 48; a rolling deployment, awaited until
 * DEPLOYED), scales it to 0 and takes the baseline, then scales up in steps (BENCH_STEPS, default
 * 10,25,50,75,100, clipped to the capacity the cells advertise: CELL_MAX_CONTAINERS and
 * CELL_MEMORY_MB / memory_mb per cell). At each step it waits (bounded) until every instance is
 * RUNNING (GET /v1/apps/NAME/instances) and every index has answered through the router, lets the
 * containers settle, and records:
 *   - host memory in use (/proc/meminfo MemTotal - MemAvailable) over the baseline; other work on
 *     the host moves it, so also
 *   - "ours": anon + shmem + kernel memory of this process's memory cgroup (the platform's
 *     processes start in it, and the netns/veth/iptables/mount objects the cells create are charged
 *     to it) plus the containers' cgroups, over the baseline;
 *   - each container's memory cgroup (cgroup v1: memory.usage_in_bytes, memory.stat,
 *     memory.kmem.usage_in_bytes; v2: memory.current, memory.stat), found from runc's state.json
 *     (<dataDir>/cells/<cell>/runc/<id>/state.json cgroup_paths), else <hierarchy>/paas/<id>;
 *   - the app's own memory: VmRSS, and Pss/Private_* (USS) from smaps_rollup, of every process in
 *     each container (the cgroup's cgroup.procs; else runc's init pid and its descendants through
 *     /proc/<pid>/task/<tid>/children). VmRSS counts the node binary's shared pages in every
 *     process, so the app's own memory is taken as USS (private memory);
 *   - RSS of the platform's own processes and /proc/meminfo kernel fields over the baseline.
 * Overhead per container beyond the app's own = memory per instance - app USS per instance.
 * Then it asks for 4 instances more than the cells hold and reports why they stay unplaced, and
 * after stopping the platform reports (and removes, when empty) container cgroups left behind.
 * Traffic goes to 127.0.0.1 only; every wait is bounded and the run has a time budget
 * (BENCH_BUDGET_S, default 330 s) after which the remaining steps are skipped.
 */
import { cp, mkdtemp, readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerIndexes, benchApi, waitForDeployed, webInstances } from './bench-kit';
import type { InstanceView } from '@paas/contracts';
import { ROOT, commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';

const MEMORY_MB = Number(process.env.BENCH_MEMORY_MB ?? 48);
const STEPS = (process.env.BENCH_STEPS ?? '10,25,50,75,100')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);
const BUDGET_MS = Number(process.env.BENCH_BUDGET_S ?? 330) * 1000;
const APP = 'density-bench';
const STEP_TIMEOUT_MS = 180_000;
const DEPLOY_TIMEOUT_MS = 180_000;
const POLL_MS = 250;
const ROUTER_CONCURRENCY = 4;
const ROUTER_PAUSE_MS = 10;
/** Give up on a step when instances stay UNPLACED this long while all the others run. */
const UNPLACED_GRACE_MS = 8_000;
/** Idle time after a step is up before memory is read: startup garbage is collected, probes stop. */
const SETTLE_MS = 6_000;
/** Extra instances asked for beyond what the cells hold, to see what stops them. */
const OVER_LIMIT = 4;
const MiB = 1024 * 1024;

interface CellView {
  id: string;
  capacity: { memory_mb: number; max_containers: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const agent = new Agent({ keepAlive: true, maxSockets: ROUTER_CONCURRENCY });
const mb = (bytes: number) => bytes / MiB;
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function describe(instances: InstanceView[]): string {
  const byState = new Map<string, number>();
  const byCell = new Map<string, number>();
  const reasons = new Map<string, number>();
  for (const i of instances) {
    byState.set(i.state, (byState.get(i.state) ?? 0) + 1);
    if (i.cell_id && i.state === 'RUNNING') byCell.set(i.cell_id, (byCell.get(i.cell_id) ?? 0) + 1);
    const reason = i.unplaced_reason ?? (i.state === 'RUNNING' ? null : i.last_crash_reason);
    if (reason) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const list = (m: Map<string, number>) => [...m].map(([k, v]) => `${k}: ${v}`).join(', ') || '-';
  return `states {${list(byState)}}; running per cell {${list(byCell)}}${reasons.size ? `; reasons {${list(reasons)}}` : ''}`;
}

/**
 * Polls the instances until `done`; returns the last list and whether `done` was reached. Stops
 * early (not done) when some stay UNPLACED for UNPLACED_GRACE_MS while all the others run.
 */
async function waitForInstances(
  platform: TestPlatform,
  timeoutMs: number,
  done: (instances: InstanceView[]) => boolean,
  stop?: AbortSignal,
): Promise<{ reached: boolean; instances: InstanceView[]; ms: number }> {
  const t0 = Date.now();
  let last: InstanceView[] = [];
  let stuckSince: number | undefined;
  for (let poll = 0; poll < timeoutMs / POLL_MS && Date.now() - t0 < timeoutMs && !stop?.aborted; poll++) {
    last = await webInstances(platform, APP);
    if (done(last)) return { reached: true, instances: last, ms: Date.now() - t0 };
    const running = last.filter((i) => i.state === 'RUNNING').length;
    const unplaced = last.filter((i) => i.state === 'UNPLACED').length;
    if (unplaced > 0 && running + unplaced === last.length) {
      stuckSince ??= Date.now();
      if (Date.now() - stuckSince >= UNPLACED_GRACE_MS) break;
    } else {
      stuckSince = undefined;
    }
    await sleep(POLL_MS);
  }
  return { reached: false, instances: last, ms: Date.now() - t0 };
}

/** Requests through the router until every index in [0, count) has answered; false on timeout/abort. */
async function allIndexesAnswer(
  platform: TestPlatform,
  count: number,
  timeoutMs: number,
  stop: AbortSignal,
): Promise<{ ok: boolean; ms: number; missing: number[]; requests: number }> {
  const { missing, requests, ms } = await answerIndexes(platform, `${APP}.${platform.appsDomain}`, count, {
    t0: Date.now(),
    timeoutMs,
    maxRequests: 100_000,
    stop,
    agent,
    concurrency: ROUTER_CONCURRENCY,
    pauseMs: ROUTER_PAUSE_MS,
  });
  return { ok: missing.length === 0, ms, missing, requests };
}

// ---- host memory -------------------------------------------------------------------------------

/** /proc/meminfo in bytes. */
async function meminfo(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await readFile('/proc/meminfo', 'utf8')).split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?: kB)?$/.exec(line);
    if (m) out.set(m[1], Number(m[2]) * (line.endsWith('kB') ? 1024 : 1));
  }
  return out;
}

const used = (m: Map<string, number>) => (m.get('MemTotal') ?? 0) - (m.get('MemAvailable') ?? 0);

/** Five samples 400 ms apart; the one with the median "used" (the host is not only ours). */
async function sampleMeminfo(): Promise<Map<string, number>> {
  const samples: Array<Map<string, number>> = [];
  for (let i = 0; i < 5; i++) {
    samples.push(await meminfo());
    if (i < 4) await sleep(400);
  }
  samples.sort((a, b) => used(a) - used(b));
  return samples[2];
}

/** Kernel-side /proc/meminfo fields compared between the baseline and each step. */
const KERNEL_FIELDS = ['AnonPages', 'Shmem', 'Cached', 'Slab', 'SReclaimable', 'SUnreclaim', 'KernelStack', 'PageTables', 'Percpu', 'VmallocUsed'];

// ---- processes ---------------------------------------------------------------------------------

interface ProcMemory {
  rss: number;
  pss: number;
  uss: number;
}

async function procMemory(pid: number): Promise<ProcMemory | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  if (status === undefined) return undefined;
  const kb = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  const rollup = (await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '')) || '';
  return {
    rss: kb(status, 'VmRSS'),
    pss: kb(rollup, 'Pss'),
    uss: kb(rollup, 'Private_Clean') + kb(rollup, 'Private_Dirty'),
  };
}

async function comm(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
}

/** pid and its descendants, through /proc/<pid>/task/<tid>/children (bounded). */
async function processTree(root: number): Promise<number[]> {
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0 && found.length < 1000) {
    const pid = queue.shift() as number;
    found.push(pid);
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    for (const tid of tasks) {
      const children = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
      for (const c of children.split(/\s+/).filter(Boolean)) queue.push(Number(c));
    }
  }
  return found;
}

// ---- containers --------------------------------------------------------------------------------

interface ContainerMemory {
  id: string;
  cell: string;
  procs: Array<ProcMemory & { pid: number; comm: string }>;
  comms: string[];
  rss: number;
  pss: number;
  uss: number;
  cgroupUsage: number;
  cgroupRss: number;
  cgroupCache: number;
  cgroupShmem: number;
  cgroupKmem: number;
}

const cgroupV2 = readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').then(
  () => true,
  () => false,
);

async function readNumber(file: string): Promise<number> {
  const n = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  return Number.isFinite(n) ? n : 0;
}

function statField(stat: string, field: string): number {
  return Number(new RegExp(`^${field} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0);
}

interface Charge {
  anon: number;
  cache: number;
  shmem: number;
  kmem: number;
}

/** What a memory cgroup (and its descendants) holds: anonymous, page cache, shmem, kernel memory. */
async function cgroupCharge(dir: string): Promise<Charge> {
  const v2 = await cgroupV2;
  const stat = await readFile(join(dir, 'memory.stat'), 'utf8').catch(() => '');
  if (v2) {
    return {
      anon: statField(stat, 'anon'),
      cache: statField(stat, 'file'),
      shmem: statField(stat, 'shmem'),
      kmem: statField(stat, 'kernel') || statField(stat, 'slab') + statField(stat, 'kernel_stack') + statField(stat, 'pagetables') + statField(stat, 'percpu'),
    };
  }
  return {
    anon: statField(stat, 'total_rss'),
    cache: statField(stat, 'total_cache'),
    shmem: statField(stat, 'total_shmem'),
    kmem: await readNumber(join(dir, 'memory.kmem.usage_in_bytes')),
  };
}

/** Memory that cannot be reclaimed, as a cgroup holds it: anon + shmem + kernel (the cgroup's share of "used"). */
const unreclaimable = (c: Charge) => c.anon + c.shmem + c.kmem;

/**
 * This process's own memory cgroup, when it has one below the root: the platform's processes
 * (cells, router, controller, redis, postgres) start in it, and the kernel objects the cells
 * create for each container (netns, veth, iptables rules, mounts) are charged to it. Together
 * with the containers' cgroups it measures this run alone, whatever else runs on the host.
 */
async function sessionCgroup(): Promise<string | undefined> {
  const text = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  const v2 = await cgroupV2;
  const line = text.split('\n').find((l) => (v2 ? l.startsWith('0::') : /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l)));
  const path = line?.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
  if (!path || path === '/') return undefined;
  return v2 ? join('/sys/fs/cgroup', path) : join('/sys/fs/cgroup/memory', path);
}

/** Every live app container of the platform's cells (staging containers excluded). */
async function containers(platform: TestPlatform): Promise<ContainerMemory[]> {
  const cellsDir = join(platform.dataDir, 'cells');
  const out: ContainerMemory[] = [];
  const v2 = await cgroupV2;
  for (const cell of (await readdir(cellsDir).catch(() => [] as string[])).sort()) {
    const runcRoot = join(cellsDir, cell, 'runc');
    for (const id of await readdir(runcRoot).catch(() => [] as string[])) {
      if (id.includes('-stg-')) continue;
      const stateText = await readFile(join(runcRoot, id, 'state.json'), 'utf8').catch(() => undefined);
      if (!stateText) continue;
      const state = JSON.parse(stateText) as { init_process_pid?: number; cgroup_paths?: Record<string, string> };
      const cgroup = v2 ? (state.cgroup_paths?.[''] ?? join('/sys/fs/cgroup', 'paas', id)) : (state.cgroup_paths?.['memory'] ?? join('/sys/fs/cgroup/memory', 'paas', id));
      let pids = (await readFile(join(cgroup, 'cgroup.procs'), 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map(Number);
      if (pids.length === 0 && state.init_process_pid) pids = await processTree(state.init_process_pid);
      const mem: ProcMemory = { rss: 0, pss: 0, uss: 0 };
      const procs: ContainerMemory['procs'] = [];
      for (const pid of pids) {
        const m = await procMemory(pid);
        if (!m) continue;
        procs.push({ pid, comm: await comm(pid), ...m });
        mem.rss += m.rss;
        mem.pss += m.pss;
        mem.uss += m.uss;
      }
      if (procs.length === 0) continue; // stopped or being removed
      const charge = await cgroupCharge(cgroup);
      out.push({
        id,
        cell,
        procs,
        comms: procs.map((p) => p.comm),
        ...mem,
        cgroupUsage: await readNumber(join(cgroup, v2 ? 'memory.current' : 'memory.usage_in_bytes')),
        cgroupRss: charge.anon,
        cgroupCache: charge.cache,
        cgroupShmem: charge.shmem,
        cgroupKmem: charge.kmem,
      });
    }
  }
  return out;
}

/** RSS of the platform's own components (main process of each; postgres backends are not summed). */
async function platformRss(platform: TestPlatform): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [name, proc] of platform.processes) {
    if (!proc.pid) continue;
    const m = await procMemory(proc.pid);
    if (m) out.set(name, m.rss);
  }
  return out;
}

/** Isolated platforms of other processes on this machine: their memory moves our host figures. */
async function otherPlatforms(): Promise<number> {
  const owners = new Set<number>();
  for (const name of await readdir('/run/paas-isolated-platforms').catch(() => [] as string[])) {
    const owner = Number((await readFile(join('/run/paas-isolated-platforms', name), 'utf8').catch(() => '')).trim());
    if (owner && owner !== process.pid) owners.add(owner);
  }
  return owners.size;
}

// ---- the run -----------------------------------------------------------------------------------

interface Step {
  instances: number;
  upMs: number;
  placement: string;
  /** MemTotal - MemAvailable over the baseline. */
  hostDelta: number;
  /** Unreclaimable memory of this run's cgroups (session + containers) over the baseline. */
  oursDelta: number;
  /** The session cgroup's change: the platform's processes and the kernel objects the cells made. */
  session: Charge;
  containers: ContainerMemory[];
  kernel: Map<string, number>;
  platformDelta: Map<string, number>;
  /** Requests sent through the router so far (all steps), to read the router's growth against. */
  routerRequests: number;
  /** MemAvailable at this step. */
  available: number;
}

interface Baseline {
  meminfo: Map<string, number>;
  session: Charge | undefined;
  platform: Map<string, number>;
}

const ZERO: Charge = { anon: 0, cache: 0, shmem: 0, kmem: 0 };
const minus = (a: Charge, b: Charge): Charge => ({ anon: a.anon - b.anon, cache: a.cache - b.cache, shmem: a.shmem - b.shmem, kmem: a.kmem - b.kmem });

async function scaleTo(platform: TestPlatform, instances: number): Promise<void> {
  await benchApi(platform, 'POST', `/v1/apps/${APP}/processes/web/actions/scale`, { instances });
}

/** Container cgroups named after the tag still on the host (after the platform stopped); removes the empty ones. */
async function leftoverCgroups(tag: string): Promise<{ ids: string[]; removed: number }> {
  const v2 = await cgroupV2;
  const roots = v2 ? ['/sys/fs/cgroup/paas'] : (await readdir('/sys/fs/cgroup').catch(() => [] as string[])).map((c) => join('/sys/fs/cgroup', c, 'paas'));
  const ids = new Set<string>();
  let removed = 0;
  for (const root of roots) {
    for (const id of await readdir(root).catch(() => [] as string[])) {
      if (!id.startsWith(`${tag}-`)) continue;
      ids.add(id);
      const procs = await readFile(join(root, id, 'cgroup.procs'), 'utf8').catch(() => 'unknown');
      if (procs.trim() === '') await rmdir(join(root, id)).then(() => removed++, () => undefined);
    }
  }
  return { ids: [...ids].sort(), removed };
}

async function main(): Promise<void> {
  const tStart = Date.now();
  const remaining = () => BUDGET_MS - (Date.now() - tStart);
  const work = await mkdtemp(join(tmpdir(), 'paas-bench-density-'));
  let platform: TestPlatform | undefined;
  const steps: Step[] = [];
  const notes: string[] = [];
  let limitNote = '';
  let capacity = 0;
  let cellsNote = '';
  const seen = new Map<string, string>();
  const session = await sessionCgroup();
  const othersAtStart = await otherPlatforms();
  let othersAtEnd = 0;
  let leftovers: { ids: string[]; removed: number } = { ids: [], removed: 0 };
  try {
    platform = await startIsolatedPlatform(2);
    console.log(`platform up in ${seconds(Date.now() - tStart)} (2 cells, tag ${platform.tag}; memory cgroup of this run: ${session ?? 'none (the host root)'})`);
    const cells = (await benchApi<{ resources: CellView[] }>(platform, 'GET', '/v1/cells')).resources;
    const perCell = cells.map((c) => ({ id: c.id, containers: c.capacity.max_containers, byMemory: Math.floor(c.capacity.memory_mb / MEMORY_MB) }));
    capacity = perCell.reduce((sum, c) => sum + Math.min(c.containers, c.byMemory), 0);
    cellsNote = perCell.map((c) => `${c.id}: ${c.containers} containers, room for ${c.byMemory} x ${MEMORY_MB} MB`).join('; ');
    console.log(`cell capacity: ${cellsNote} -> ${capacity} instances`);

    await benchApi(platform, 'POST', '/v1/apps', { name: APP });
    const dir = join(work, APP);
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await commitDir(dir);
    const tPush = Date.now();
    const push = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${APP}.git`, 'main'], dir);
    if (push.code !== 0) throw new Error(`push failed:\n${push.output}`);
    await waitForDeployed(platform, APP, 'first deployment', { timeoutMs: DEPLOY_TIMEOUT_MS, pollMs: POLL_MS });
    for (const c of await containers(platform)) seen.set(c.id, 'first deployment');
    console.log(`pushed and deployed in ${seconds(Date.now() - tPush)}`);

    const memoryScale = await benchApi<{ deployment_id: string | null }>(platform, 'POST', `/v1/apps/${APP}/processes/web/actions/scale`, { memory_mb: MEMORY_MB });
    await waitForDeployed(platform, APP, `memory ${MEMORY_MB} MB`, { id: memoryScale.deployment_id ?? undefined, timeoutMs: DEPLOY_TIMEOUT_MS, pollMs: POLL_MS });
    const one = await waitForInstances(platform, 60_000, (l) => l.length === 1 && l[0].state === 'RUNNING');
    if (!one.reached) throw new Error(`no instance RUNNING at ${MEMORY_MB} MB: ${describe(one.instances)}`);
    for (const c of await containers(platform)) {
      if (!seen.has(c.id)) seen.set(c.id, `memory ${MEMORY_MB} MB deployment`);
      console.log(`one instance at ${MEMORY_MB} MB runs ${c.procs.map((p) => `${p.comm} (RSS ${fmt(mb(p.rss))}, USS ${fmt(mb(p.uss))} MB)`).join(', ')}; cgroup ${fmt(mb(c.cgroupUsage))} MB`);
    }

    // Baseline: the platform with the app staged and no instance.
    await scaleTo(platform, 0);
    const none = await waitForInstances(platform, 60_000, (l) => l.length === 0);
    for (let i = 0; i < 40 && (await containers(platform)).length > 0; i++) await sleep(250);
    if (!none.reached) throw new Error(`could not scale to 0: ${describe(none.instances)}`);
    await sleep(SETTLE_MS);
    const base: Baseline = {
      meminfo: await sampleMeminfo(),
      session: session ? await cgroupCharge(session) : undefined,
      platform: await platformRss(platform),
    };
    console.log(`baseline (0 instances): host uses ${fmt(mb(used(base.meminfo)), 0)} MB of ${fmt(mb(base.meminfo.get('MemTotal') ?? 0), 0)} MB`);

    const plan = [...new Set(STEPS.map((n) => Math.min(n, capacity)))].filter((n) => n > 0);
    if (STEPS.some((n) => n > capacity)) notes.push(`steps above the cells' capacity (${capacity}) were clipped to it`);
    let previous = 0;
    let routerRequests = 0;
    for (const target of plan) {
      // Seconds per new container so far (1 s before the first step), with a margin: skip a step that cannot fit the budget.
      const last = steps[steps.length - 1];
      const perContainerMs = last ? last.upMs / Math.max(1, last.instances - (steps[steps.length - 2]?.instances ?? 0)) : 1_000;
      const estimate = perContainerMs * (target - previous) * 1.5 + SETTLE_MS + 15_000;
      if (estimate > remaining()) {
        notes.push(`stopped before ${target} instances: the time budget (${BUDGET_MS / 1000} s) would run out (about ${seconds(estimate)} needed, ${seconds(remaining())} left)`);
        break;
      }
      const t0 = Date.now();
      await scaleTo(platform, target);
      const timeout = Math.min(STEP_TIMEOUT_MS, remaining() - 10_000);
      const giveUp = new AbortController();
      const [running, routed] = await Promise.all([
        waitForInstances(platform, timeout, (l) => l.length >= target && l.every((i) => i.state === 'RUNNING')).then((r) => {
          if (!r.reached) giveUp.abort();
          return r;
        }),
        allIndexesAnswer(platform, target, timeout, giveUp.signal),
      ]);
      const upMs = Date.now() - t0;
      routerRequests += routed.requests;
      if (!running.reached) {
        limitNote = `scaling to ${target} did not finish in ${seconds(upMs)}: ${describe(running.instances)}`;
        break;
      }
      if (!routed.ok) {
        limitNote = `scaling to ${target}: all RUNNING but indexes ${routed.missing.slice(0, 20).join(',')} never answered through the router`;
        break;
      }
      await sleep(SETTLE_MS);
      const now = await sampleMeminfo();
      const sessionDelta = session && base.session ? minus(await cgroupCharge(session), base.session) : ZERO;
      const list = await containers(platform);
      for (const c of list) if (!seen.has(c.id)) seen.set(c.id, `step ${target}`);
      const platformNow = await platformRss(platform);
      const containersCharge = list.reduce((a, c) => a + c.cgroupRss + c.cgroupShmem + c.cgroupKmem, 0);
      const step: Step = {
        instances: target,
        upMs,
        placement: describe(running.instances),
        hostDelta: used(now) - used(base.meminfo),
        oursDelta: unreclaimable(sessionDelta) + containersCharge,
        session: sessionDelta,
        containers: list,
        kernel: new Map(KERNEL_FIELDS.map((f) => [f, (now.get(f) ?? 0) - (base.meminfo.get(f) ?? 0)])),
        platformDelta: new Map([...platformNow].map(([k, v]) => [k, v - (base.platform.get(k) ?? v)])),
        routerRequests,
        available: now.get('MemAvailable') ?? 0,
      };
      steps.push(step);
      const uss = list.reduce((a, c) => a + c.uss, 0) / Math.max(1, list.length);
      console.log(
        `${target} instances up in ${seconds(upMs)}: host +${fmt(mb(step.hostDelta), 0)} MB (${fmt(mb(step.hostDelta / target))}/instance), ` +
          `this run's cgroups +${fmt(mb(step.oursDelta), 0)} MB (${fmt(mb(step.oursDelta / target))}/instance), app USS ${fmt(mb(uss))} MB/instance; ${step.placement}`,
      );
      if (list.length !== target) notes.push(`at ${target} instances ${list.length} live app containers were found under the cells' runc roots`);
      previous = target;
    }

    // One step past what the cells hold: what stops it?
    if (!limitNote && previous === capacity && remaining() > 30_000) {
      const over = capacity + OVER_LIMIT;
      await scaleTo(platform, over);
      const r = await waitForInstances(platform, Math.min(60_000, remaining() - 10_000), (l) => l.length >= over && l.every((i) => i.state === 'RUNNING'));
      limitNote = r.reached
        ? `asked for ${over}: all ${over} RUNNING (the advertised capacity of ${capacity} is not the limit)`
        : `asked for ${over} (${OVER_LIMIT} more than the cells hold): ${describe(r.instances)}`;
    }
    othersAtEnd = await otherPlatforms();
  } finally {
    const tStop = Date.now();
    const left = await stopIsolatedPlatform(platform).catch((error: Error) => [`stop failed: ${error.message}`]);
    if (left.length > 0) console.error(`left behind on the host: ${left.join('; ')}`);
    else if (platform) console.log(`platform stopped and cleaned up in ${seconds(Date.now() - tStop)}`);
    if (platform) leftovers = await leftoverCgroups(platform.tag);
    await rm(work, { recursive: true, force: true });
    agent.destroy();
  }

  report(steps, notes, limitNote, capacity, cellsNote, Math.max(othersAtStart, othersAtEnd), session, Date.now() - tStart);
  if (leftovers.ids.length > 0) {
    const which = leftovers.ids.map((id) => `${id} (${seen.get(id) ?? 'never seen running'})`).join(', ');
    console.log(`note: the stopped platform left ${leftovers.ids.length} container cgroup(s) behind: ${which}; removed ${leftovers.removed} empty cgroup dir(s)`);
  }
  if (steps.length > 0) {
    const last = steps[steps.length - 1];
    const c = last.containers.length || 1;
    const uss = mb(last.containers.reduce((a, x) => a + x.uss, 0) / c);
    const rss = mb(last.containers.reduce((a, x) => a + x.rss, 0) / c);
    const host = mb(last.hostDelta / last.instances);
    const ours = mb(last.oursDelta / last.instances);
    // The host-wide figure is the measure asked for; when other platforms ran beside us it carries their drift, so the
    // figure from this run's own cgroups leads then.
    const noisy = Math.max(othersAtStart, othersAtEnd) > 0 && session !== undefined;
    const [lead, leadName, other, otherName] = noisy ? [ours, "this run's cgroups", host, 'host MemAvailable'] : [host, 'host MemAvailable', ours, "this run's cgroups"];
    console.log(
      `\ntwo cells held ${last.instances} idle instances of hello-node; overhead ≈ ${fmt(lead - uss)} MB per container beyond the app's own ${fmt(uss)} MB ` +
        `(${leadName}: ${fmt(lead)} MB per instance; ${otherName}: ${fmt(other)} MB, overhead ${fmt(other - uss)} MB; app = USS of ${last.containers[0]?.comms.join(' + ') ?? '-'}, whose VmRSS sum ${fmt(rss)} MB counts the shared node binary in every process)`,
    );
  } else {
    console.log('\nno step completed');
  }
}

function report(steps: Step[], notes: string[], limitNote: string, capacity: number, cellsNote: string, others: number, session: string | undefined, totalMs: number): void {
  console.log(`\ndensity (examples/hello-node, ${MEMORY_MB} MB limit per instance, 2 cells; run took ${seconds(totalMs)})`);
  const header = ['instances', 'to all up', 'host MB', 'MB/inst', 'marginal', 'ours MB', 'MB/inst', 'RSS/inst', 'PSS/inst', 'USS/inst', 'cgroup/inst', '(anon', 'cache', 'kmem)', 'overhead', 'ours'];
  const rows: string[][] = [];
  let prev: Step | undefined;
  for (const s of steps) {
    const n = s.instances;
    const c = s.containers.length || 1;
    const avg = (f: (x: ContainerMemory) => number) => mb(s.containers.reduce((a, x) => a + f(x), 0) / c);
    const host = mb(s.hostDelta / n);
    const ours = mb(s.oursDelta / n);
    rows.push([
      String(n),
      seconds(s.upMs),
      fmt(mb(s.hostDelta), 0),
      fmt(host),
      fmt(prev ? mb((s.hostDelta - prev.hostDelta) / (n - prev.instances)) : host),
      session ? fmt(mb(s.oursDelta), 0) : '-',
      session ? fmt(ours) : '-',
      fmt(avg((x) => x.rss)),
      fmt(avg((x) => x.pss)),
      fmt(avg((x) => x.uss)),
      fmt(avg((x) => x.cgroupUsage)),
      fmt(avg((x) => x.cgroupRss)),
      fmt(avg((x) => x.cgroupCache)),
      fmt(avg((x) => x.cgroupKmem)),
      fmt(host - avg((x) => x.uss)),
      session ? fmt(ours - avg((x) => x.uss)) : '-',
    ]);
    prev = s;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '  ' + cells.map((v, i) => v.padStart(widths[i])).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log(
    [
      '  MB = MiB. host MB: MemTotal-MemAvailable over the 0-instance baseline (the whole host); marginal: host MB per instance added since the previous step.',
      "  ours MB: anon+shmem+kernel memory of this run's memory cgroup (platform processes, and the netns/veth/iptables/mount objects the cells create)",
      '    plus that of the containers\' cgroups, over the baseline: blind to other work on the host.',
      '  RSS/PSS/USS: the processes in each container (VmRSS; Pss and Private_* of smaps_rollup). cgroup: the container\'s memory.usage_in_bytes (anon + cache + kmem).',
      '  overhead: MB/inst - USS/inst (host, then ours): what a container costs beyond the app\'s private memory.',
    ].join('\n'),
  );

  const last = steps[steps.length - 1];
  if (last) {
    const n = last.instances;
    const c = last.containers.length || 1;
    const per = (bytes: number) => `${fmt(mb(bytes / n), 2).padStart(7)} MB`;
    console.log(`\nwhere the memory of ${n} instances went (per instance):`);
    const byComm = new Map<string, { rss: number; pss: number; uss: number; count: number }>();
    for (const x of last.containers) {
      for (const p of x.procs) {
        const e = byComm.get(p.comm) ?? { rss: 0, pss: 0, uss: 0, count: 0 };
        e.rss += p.rss;
        e.pss += p.pss;
        e.uss += p.uss;
        e.count++;
        byComm.set(p.comm, e);
      }
    }
    for (const [name, e] of byComm) {
      console.log(`  in the container: ${name.padEnd(10)} USS ${fmt(mb(e.uss / c), 2).padStart(6)} MB  PSS ${fmt(mb(e.pss / c), 2).padStart(6)} MB  RSS ${fmt(mb(e.rss / c), 2).padStart(6)} MB  (${e.count} processes)`);
    }
    const sum = (f: (x: ContainerMemory) => number) => last.containers.reduce((a, x) => a + f(x), 0);
    console.log(`  container cgroup: anon ${per(sum((x) => x.cgroupRss))}  kmem ${per(sum((x) => x.cgroupKmem))}  shmem ${per(sum((x) => x.cgroupShmem))}  page cache ${per(sum((x) => x.cgroupCache))}`);
    if (session) {
      console.log(
        `  this run's cgroup (cells, router, controller, redis, postgres, and what the cells made in the kernel): anon ${per(last.session.anon)}  kernel ${per(last.session.kmem)}  shmem ${per(last.session.shmem)}`,
      );
    }
    for (const [name, delta] of last.platformDelta) {
      const why = name === 'router' ? ` after ${last.routerRequests} probe requests through it` : '';
      console.log(`  RSS of ${name.padEnd(11)} ${per(delta)}   (total ${delta >= 0 ? '+' : ''}${fmt(mb(delta), 0)} MB${why})`);
    }
    for (const [field, delta] of last.kernel) console.log(`  host /proc/meminfo ${field.padEnd(13)} ${per(delta)}`);
    const perCell = new Map<string, number>();
    for (const x of last.containers) perCell.set(x.cell, (perCell.get(x.cell) ?? 0) + 1);
    console.log(`  containers per cell: ${[...perCell].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  }
  console.log(`\ncapacity the cells advertise: ${cellsNote || '-'} (${capacity} instances)`);
  if (last) {
    const perInstance = session ? last.oursDelta / last.instances : last.hostDelta / last.instances;
    if (perInstance > 0) {
      console.log(
        `by memory alone this host would hold about ${Math.floor(last.available / perInstance)} more such instances (MemAvailable ${fmt(mb(last.available), 0)} MB at ${last.instances} instances / ${fmt(mb(perInstance))} MB each)`,
      );
    }
  }
  if (limitNote) console.log(`limit: ${limitNote}`);
  for (const note of notes) console.log(`note: ${note}`);
  if (others > 0) console.log(`note: ${others} other isolated platform(s) ran on this host during the run: the host figures carry their drift, the "ours" figures do not`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
