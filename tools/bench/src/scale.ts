/**
 * tools/bench/scale: scaling out and in on real runc containers. Starts an isolated platform with
 * two cells, pushes examples/hello-node with the real git client, lowers the web process to
 * BENCH_MEMORY_MB (default 64; a memory change is a rolling deployment, so the bench waits for it
 * to be DEPLOYED), then times `scale {"instances": BENCH_INSTANCES}` (default 50):
 *   - until every instance is RUNNING (GET /v1/apps/NAME/instances), and
 *   - until every index has answered through the router ("Hello from NAME instance N").
 * Then times `scale {"instances": 1}` until only one instance is left. When the instances do not
 * all come up, it prints their states and the reasons (unplaced, crashed) instead of a time.
 * Traffic goes to 127.0.0.1 only; every wait is bounded.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerIndexes, benchApi, waitForDeployed, webInstances } from './bench-kit';
import type { InstanceView } from '@paas/contracts';
import { ROOT, commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';

const TARGET = Number(process.env.BENCH_INSTANCES ?? 50);
const MEMORY_MB = Number(process.env.BENCH_MEMORY_MB ?? 64);
const APP = 'scale-bench';
const SCALE_TIMEOUT_MS = 240_000;
const DEPLOY_TIMEOUT_MS = 180_000;
const POLL_MS = 100;
const ROUTER_CONCURRENCY = 4;
/** Pause of each router prober between requests, so probing does not take the CPU the starts need. */
const ROUTER_PAUSE_MS = 10;
/** Give up early when instances stay UNPLACED this long while all the others run. */
const UNPLACED_GRACE_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const agent = new Agent({ keepAlive: true, maxSockets: ROUTER_CONCURRENCY });

/** Describes where the instances are, for a failure or the final report. */
function describe(instances: InstanceView[]): string {
  const byState = new Map<string, number>();
  const byCell = new Map<string, number>();
  const reasons = new Map<string, number>();
  for (const i of instances) {
    byState.set(i.state, (byState.get(i.state) ?? 0) + 1);
    if (i.cell_id) byCell.set(i.cell_id, (byCell.get(i.cell_id) ?? 0) + 1);
    const reason = i.unplaced_reason ?? (i.state === 'RUNNING' ? null : i.last_crash_reason);
    if (reason) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const list = (m: Map<string, number>) => [...m].map(([k, v]) => `${k}: ${v}`).join(', ') || '-';
  return `states {${list(byState)}}; per cell {${list(byCell)}}${reasons.size ? `; reasons {${list(reasons)}}` : ''}`;
}

/**
 * Polls the API until `done(instances)`; returns the elapsed ms from t0 and when the number of
 * RUNNING instances first reached each count. Throws with the last picture after the timeout, or
 * early when some instances stay UNPLACED while all the others run (capacity is the limit).
 */
async function waitForInstances(
  platform: TestPlatform,
  t0: number,
  what: string,
  done: (instances: InstanceView[]) => boolean,
  stop?: AbortSignal,
): Promise<{ ms: number; instances: InstanceView[]; runningAt: Map<number, number> }> {
  let last: InstanceView[] = [];
  const runningAt = new Map<number, number>();
  let stuckSince: number | undefined;
  for (let poll = 0; poll < SCALE_TIMEOUT_MS / POLL_MS && Date.now() - t0 < SCALE_TIMEOUT_MS && !stop?.aborted; poll++) {
    last = await webInstances(platform, APP);
    const running = last.filter((i) => i.state === 'RUNNING').length;
    for (let n = 1; n <= running; n++) if (!runningAt.has(n)) runningAt.set(n, Date.now() - t0);
    if (done(last)) return { ms: Date.now() - t0, instances: last, runningAt };
    const unplaced = last.filter((i) => i.state === 'UNPLACED').length;
    if (unplaced > 0 && running + unplaced === last.length) {
      stuckSince ??= Date.now();
      if (Date.now() - stuckSince >= UNPLACED_GRACE_MS) throw new Error(`${what}: ${unplaced} instances cannot be placed; ${describe(last)}`);
    } else {
      stuckSince = undefined;
    }
    await sleep(POLL_MS);
  }
  throw new Error(`${what}: not reached within ${SCALE_TIMEOUT_MS / 1000} s; ${describe(last)}`);
}

/** Sends requests through the router until every index in [0, count) has answered; ms from t0. */
async function waitForAllIndexesAnswered(platform: TestPlatform, t0: number, count: number, stop: AbortSignal): Promise<{ ms: number; requests: number }> {
  const { missing, requests, ms } = await answerIndexes(platform, `${APP}.${platform.appsDomain}`, count, {
    t0,
    timeoutMs: SCALE_TIMEOUT_MS,
    maxRequests: 200_000,
    stop,
    agent,
    concurrency: ROUTER_CONCURRENCY,
    pauseMs: ROUTER_PAUSE_MS,
  });
  if (missing.length > 0) throw new Error(`router: indexes ${missing.join(',')} never answered (${requests} requests)`);
  return { ms, requests };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'paas-bench-scale-'));
  let platform: TestPlatform | undefined;
  const rows: Array<[string, string]> = [];
  try {
    const tBoot = Date.now();
    platform = await startIsolatedPlatform(2);
    console.log(`platform up in ${seconds(Date.now() - tBoot)} (2 cells)`);
    const cells = await benchApi<{ resources: Array<Record<string, unknown>> }>(platform, 'GET', '/v1/cells').catch(() => undefined);
    if (cells) console.log(`cells: ${JSON.stringify(cells.resources)}`);

    await benchApi(platform, 'POST', '/v1/apps', { name: APP });
    const dir = join(work, APP);
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await commitDir(dir);
    const tPush = Date.now();
    const push = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${APP}.git`, 'main'], dir);
    if (push.code !== 0) throw new Error(`push failed:\n${push.output}`);
    await waitForDeployed(platform, APP, 'first deployment', { timeoutMs: DEPLOY_TIMEOUT_MS, pollMs: POLL_MS });
    console.log(`pushed and deployed in ${seconds(Date.now() - tPush)}`);

    const tMemory = Date.now();
    const memoryScale = await benchApi<{ deployment_id: string | null }>(platform, 'POST', `/v1/apps/${APP}/processes/web/actions/scale`, { memory_mb: MEMORY_MB });
    if (!memoryScale.deployment_id) throw new Error(`scaling memory to ${MEMORY_MB} MB started no deployment`);
    await waitForDeployed(platform, APP, `memory ${MEMORY_MB} MB`, { id: memoryScale.deployment_id ?? undefined, timeoutMs: DEPLOY_TIMEOUT_MS, pollMs: POLL_MS });
    console.log(`memory lowered to ${MEMORY_MB} MB (rolling deployment) in ${seconds(Date.now() - tMemory)}`);
    await waitForInstances(platform, Date.now(), 'one instance at the new memory', (list) => list.length === 1 && list[0].state === 'RUNNING');

    // Scale out.
    const tOut = Date.now();
    await benchApi(platform, 'POST', `/v1/apps/${APP}/processes/web/actions/scale`, { instances: TARGET });
    const accepted = Date.now() - tOut;
    // When the instances cannot all come up, the router prober stops too; both end before a failure is reported.
    const giveUp = new AbortController();
    const [runningResult, routedResult] = await Promise.allSettled([
      waitForInstances(platform, tOut, `${TARGET} instances RUNNING`, (list) => list.length >= TARGET && list.every((i) => i.state === 'RUNNING')).catch(
        (error: unknown) => {
          giveUp.abort();
          throw error;
        },
      ),
      waitForAllIndexesAnswered(platform, tOut, TARGET, giveUp.signal),
    ]);
    if (runningResult.status === 'rejected') throw runningResult.reason;
    if (routedResult.status === 'rejected') throw routedResult.reason;
    const running = runningResult.value;
    const routed = routedResult.value;
    const started = TARGET - 1;
    rows.push(
      [`scale 1 -> ${TARGET}: API answered`, `${accepted} ms`],
      [`scale 1 -> ${TARGET}: first new one RUNNING (API)`, seconds(running.runningAt.get(2) ?? running.ms)],
      [`scale 1 -> ${TARGET}: half RUNNING (API)`, seconds(running.runningAt.get(Math.ceil(TARGET / 2)) ?? running.ms)],
      [`scale 1 -> ${TARGET}: all ${TARGET} RUNNING (API)`, seconds(running.ms)],
      [`scale 1 -> ${TARGET}: all ${TARGET} indexes answered via router`, `${seconds(routed.ms)} (${routed.requests} requests)`],
      [`containers started per second (${started} new, to RUNNING)`, (started / (running.ms / 1000)).toFixed(1)],
      [`containers started per second (${started} new, to routed)`, (started / (routed.ms / 1000)).toFixed(1)],
      ['placement', describe(running.instances)],
    );

    // Scale in.
    const tIn = Date.now();
    await benchApi(platform, 'POST', `/v1/apps/${APP}/processes/web/actions/scale`, { instances: 1 });
    const gone = await waitForInstances(platform, tIn, `back to 1 instance`, (list) => list.length === 1);
    rows.push([`scale ${TARGET} -> 1: ${TARGET - 1} instances gone (API)`, seconds(gone.ms)]);
  } finally {
    const leftovers = await stopIsolatedPlatform(platform).catch((error: Error) => [`stop failed: ${error.message}`]);
    if (leftovers.length > 0) console.error(`left behind on the host: ${leftovers.join('; ')}`);
    await rm(work, { recursive: true, force: true });
    agent.destroy();
  }
  console.log(`\nscale (examples/hello-node, ${MEMORY_MB} MB per instance, 2 cells)`);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
