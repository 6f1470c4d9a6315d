/**
 * tools/bench/recovery: how fast an instance answers through the router again, on real runc
 * containers of an isolated platform with two cells, against the goals of issue 13:
 *   (a) crash: the app's /crash exits its process; from the new process listening (the app says
 *       when, in its answer) to the first 200 through the router (goal 2 s), and from the crash;
 *   (b) `stop` then `start` through the API: from the start call to the first 200 (goal 3 s);
 *   (c) a lost cell: its agent is killed (-9, not restarted) and its containers with it; from then
 *       until its instance answers from elsewhere through the router (goal 10 s).
 * Another app keeps an instance on each cell throughout, as on a real platform (with nothing else
 * on a bridge, its last container leaving changed the bridge's MAC and so flushed the host's
 * neighbour entries, hiding the stale-MAC outage). Each case runs BENCH_RUNS times (default 5, at most 20; the lost cell at most 3: the cell comes
 * back between runs). A crash run crashes another index each time, so none passes the
 * convergence's three immediate restarts into its backoff. Prints p50/p99 (nearest rank: with a
 * handful of runs p99 is the slowest) beside the goals. Traffic goes to 127.0.0.1 only; every
 * wait is bounded in time and in requests. BENCH_CASES=crash,stop-start picks cases.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { benchApi, routerGet, waitForDeployed, webInstances } from './bench-kit';
import { ROOT, commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';

const RUNS = Math.min(Math.max(Number(process.env.BENCH_RUNS ?? 5) || 5, 1), 20);
const LOST_CELL_RUNS = Math.min(RUNS, 3);
const APP = 'recovery-bench';
/** Another app with an instance on each cell, as on a real platform: its containers keep the bridges up. */
const NEIGHBOUR = 'recovery-neighbour';
const DEPLOY_TIMEOUT_MS = 180_000;
/** Longest a single recovery may take before the run counts as failed. */
const RECOVERY_TIMEOUT_MS = 90_000;
const MAX_REQUESTS = 20_000;
const POLL_MS = 100;
const PROBES = 3;
const PROBE_PAUSE_MS = 5;
const GOALS = { crash: 2_000, stopStart: 3_000, lostCell: 10_000 };
/** Which cases run (BENCH_CASES, comma-separated; default all three). */
const CASES = new Set((process.env.BENCH_CASES ?? 'crash,stop-start,lost-cell').split(',').map((c) => c.trim()));

/** The app: answers with its index, a boot id of its own and when it started listening; /crash exits. */
const SERVER = `
const http = require('node:http');
const boot = Math.random().toString(36).slice(2, 10);
let listenAt = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/crash') { res.end('bye'); setTimeout(() => process.exit(3), 10); return; }
  res.end('instance ' + process.env.INSTANCE_INDEX + ' boot ' + boot + ' listen ' + listenAt + '\\n');
});
server.listen(process.env.PORT, () => { listenAt = Date.now(); });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const agent = new Agent({ keepAlive: true, maxSockets: PROBES });

interface Answer {
  index: number;
  boot: string;
  listenAt: number;
}

function parse(text: string): Answer | undefined {
  const match = /^instance (\d+) boot (\w+) listen (\d+)/.exec(text);
  return match ? { index: Number(match[1]), boot: match[2]!, listenAt: Number(match[3]) } : undefined;
}

/**
 * Requests through the router until an answer passes `accept`; returns it and when it came.
 * Bounded by RECOVERY_TIMEOUT_MS from t0 and MAX_REQUESTS.
 */
async function firstAnswer(platform: TestPlatform, t0: number, what: string, accept: (a: Answer) => boolean): Promise<{ answer: Answer; at: number }> {
  const host = `${APP}.${platform.appsDomain}`;
  let requests = 0;
  let found: { answer: Answer; at: number } | undefined;
  const worker = async () => {
    while (!found && requests < MAX_REQUESTS && Date.now() - t0 < RECOVERY_TIMEOUT_MS) {
      requests++;
      const r = await routerGet(platform, host, agent);
      const at = Date.now();
      const answer = r.status === 200 ? parse(r.text) : undefined;
      if (answer && accept(answer) && !found) found = { answer, at };
      await sleep(answer ? PROBE_PAUSE_MS : 20);
    }
  };
  await Promise.all(Array.from({ length: PROBES }, worker));
  if (!found) throw new Error(`${what}: no answer through the router within ${RECOVERY_TIMEOUT_MS / 1000} s (${requests} requests)`);
  return found;
}

/** GETs a path on an instance directly (its cell's address and host port). */
async function direct(address: string, path: string): Promise<string> {
  const res = await fetch(`http://${address}${path}`, { signal: AbortSignal.timeout(5_000) });
  return res.text();
}

const runningCount = async (platform: TestPlatform, n: number) => {
  const list = await webInstances(platform, APP);
  return list.length === n && list.every((i) => i.state === 'RUNNING' && i.address) ? list : undefined;
};

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function crashRuns(platform: TestPlatform, fromListen: number[], fromCrash: number[]): Promise<void> {
  await benchApi(platform, 'POST', `/v1/apps/${APP}/processes/web/actions/scale`, { instances: RUNS });
  const instances = await pollUntil(`${RUNS} instances running`, () => runningCount(platform, RUNS), { timeoutMs: DEPLOY_TIMEOUT_MS, intervalMs: POLL_MS });
  for (let index = 0; index < RUNS; index++) {
    const victim = instances.find((i) => i.index === index)!;
    const before = parse(await direct(victim.address!, '/'))!;
    const tCrash = Date.now();
    await direct(victim.address!, '/crash').catch(() => undefined);
    const { answer, at } = await firstAnswer(platform, tCrash, `crash of index ${index}`, (a) => a.index === index && a.boot !== before.boot);
    fromListen.push(at - answer.listenAt);
    fromCrash.push(at - tCrash);
    console.log(`crash ${index + 1}/${RUNS}: listening -> 200 ${seconds(at - answer.listenAt)}, crash -> 200 ${seconds(at - tCrash)}`);
  }
  await benchApi(platform, 'POST', `/v1/apps/${APP}/processes/web/actions/scale`, { instances: 1 });
  await pollUntil('back to one instance', () => runningCount(platform, 1), { timeoutMs: DEPLOY_TIMEOUT_MS, intervalMs: POLL_MS });
}

async function stopStartRuns(platform: TestPlatform, startTo200: number[]): Promise<void> {
  const host = `${APP}.${platform.appsDomain}`;
  for (let k = 0; k < RUNS; k++) {
    await benchApi(platform, 'POST', `/v1/apps/${APP}/actions/stop`);
    await pollUntil('the app stopped', async () => ((await webInstances(platform, APP)).length === 0 && (await routerGet(platform, host)).status !== 200 ? true : undefined), { timeoutMs: 60_000, intervalMs: POLL_MS });
    const before = new Set((await webInstances(platform, APP)).map((i) => i.instance_id));
    const t0 = Date.now();
    await benchApi(platform, 'POST', `/v1/apps/${APP}/actions/start`);
    const { at } = await firstAnswer(platform, t0, `start ${k + 1}`, () => true);
    startTo200.push(at - t0);
    console.log(`stop/start ${k + 1}/${RUNS}: start -> 200 ${seconds(at - t0)}${before.size ? ' (instances were left)' : ''}`);
    await pollUntil('one instance running', () => runningCount(platform, 1), { timeoutMs: 60_000, intervalMs: POLL_MS });
  }
}

async function lostCellRuns(platform: TestPlatform, lostTo200: number[], agentBack: number[]): Promise<void> {
  for (let k = 0; k < LOST_CELL_RUNS; k++) {
    const [victim] = await pollUntil('one instance running', () => runningCount(platform, 1), { timeoutMs: 60_000, intervalMs: POLL_MS });
    const before = parse(await direct(victim!.address!, '/'))!;
    const cell = platform.cells.find((c) => c.id === victim!.cell_id)!;
    const supervised = platform.processes.get(cell.id)!;
    // The host dies: the agent and its containers vanish at once.
    const t0 = Date.now();
    supervised.abandon();
    const runcRoot = join(platform.dataDir, 'cells', cell.id, 'runc');
    await run('runc', ['--root', runcRoot, 'kill', `${cell.containerPrefix}-${victim!.instance_id}`, 'KILL']).catch(() => undefined);
    try {
      const { at } = await firstAnswer(platform, t0, `lost cell ${k + 1}`, (a) => a.boot !== before.boot);
      lostTo200.push(at - t0);
      console.log(`lost cell ${k + 1}/${LOST_CELL_RUNS}: cell gone -> 200 from elsewhere ${seconds(at - t0)}`);
    } finally {
      supervised.start();
    }
    const tBack = Date.now();
    await pollUntil('the lost cell back', async () => {
      const cells = await benchApi<{ resources: Array<{ id: string; state: string }> }>(platform, 'GET', '/v1/cells');
      return cells.resources.find((c) => c.id === cell.id)?.state === 'live' ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: POLL_MS });
    agentBack.push(Date.now() - tBack);
  }
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'paas-bench-recovery-'));
  let platform: TestPlatform | undefined;
  const crashFromListen: number[] = [];
  const crashFromCrash: number[] = [];
  const startTo200: number[] = [];
  const lostTo200: number[] = [];
  const agentBack: number[] = [];
  try {
    platform = await startIsolatedPlatform(2);
    await benchApi(platform, 'POST', '/v1/apps', { name: APP });
    const dir = join(work, APP);
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await writeFile(join(dir, 'server.js'), SERVER);
    await commitDir(dir);
    for (const [name, instances] of [[NEIGHBOUR, 2], [APP, 1]] as const) {
      if (name !== APP) await benchApi(platform, 'POST', '/v1/apps', { name });
      const push = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${name}.git`, 'main'], dir);
      if (push.code !== 0) throw new Error(`push of ${name} failed:\n${push.output}`);
      await waitForDeployed(platform, name, `${name}: first deployment`, { timeoutMs: DEPLOY_TIMEOUT_MS, pollMs: POLL_MS });
      const scale = await benchApi<{ deployment_id: string | null }>(platform, 'POST', `/v1/apps/${name}/processes/web/actions/scale`, { memory_mb: 64, instances });
      await waitForDeployed(platform, name, `${name}: 64 MB`, { id: scale.deployment_id ?? undefined, timeoutMs: DEPLOY_TIMEOUT_MS, pollMs: POLL_MS });
    }
    const spread = new Set((await webInstances(platform, NEIGHBOUR)).map((i) => i.cell_id));
    console.log(`${NEIGHBOUR}: instances on ${spread.size} of 2 cells`);
    await pollUntil('one instance running', () => runningCount(platform!, 1), { timeoutMs: 60_000, intervalMs: POLL_MS });

    if (CASES.has('crash')) await crashRuns(platform, crashFromListen, crashFromCrash);
    if (CASES.has('stop-start')) await stopStartRuns(platform, startTo200);
    if (CASES.has('lost-cell')) await lostCellRuns(platform, lostTo200, agentBack);
  } finally {
    const leftovers = await stopIsolatedPlatform(platform).catch((error: Error) => [`stop failed: ${error.message}`]);
    if (leftovers.length > 0) console.error(`left behind on the host: ${leftovers.join('; ')}`);
    await rm(work, { recursive: true, force: true });
    agent.destroy();
  }
  const rows: Array<[string, number[], number | undefined]> = [
    ['crash: new process listening -> first 200 via router', crashFromListen, GOALS.crash],
    ['crash: crash -> first 200 via router', crashFromCrash, undefined],
    ['stop -> start: start call -> first 200 via router', startTo200, GOALS.stopStart],
    ['lost cell (agent kill -9, containers gone) -> 200 from elsewhere', lostTo200, GOALS.lostCell],
    ['a cell agent started -> its cell live again (API)', agentBack, undefined],
  ];
  console.log(`\nrecovery (2 cells, 64 MB instances, ${RUNS} runs; lost cell ${LOST_CELL_RUNS})`);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [what, values, goal] of rows) {
    if (values.length === 0) continue;
    const p50 = percentile(values, 50);
    const p99 = percentile(values, 99);
    const verdict = goal === undefined ? '' : `  goal ${seconds(goal)}: ${p99 <= goal ? 'met' : `missed (p99 ${(p99 / goal).toFixed(1)}x)`}`;
    console.log(`${what.padEnd(width)}  n=${values.length}  p50 ${seconds(p50)}  p99 ${seconds(p99)}${verdict}`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
