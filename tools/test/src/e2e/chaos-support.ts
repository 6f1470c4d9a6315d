/**
 * What the chaos e2e specs share (chaos*.e2e-spec.ts): a snapshot of the desired state through the
 * API (apps, their processes, releases and env, and every route with its destinations), a compare
 * that names what changed, a small app to push, and a case runner that does one fault under a
 * bounded request loop through the router, prints `failed / total` and the recovery time, and
 * asserts that the loop's failures are within what the case allows and that the snapshot is
 * unchanged.
 */
import assert from 'node:assert/strict';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, commitDir, git, type TestPlatform } from '@paas/test-platform';
import { api, trafficLoop } from './test-platform';
import { pollUntil } from '@paas/local-services';

/** Desired state by key: `app:NAME`, `app:NAME:processes`, `app:NAME:releases`, `app:NAME:env`, `routes`. */
export type StateSnapshot = Map<string, unknown>;

/** GET of a list through the API, all of it (one page of 200; more is a test that outgrew this). */
async function list(platform: TestPlatform, path: string): Promise<unknown[]> {
  const r = await api(platform, 'GET', `${path}${path.includes('?') ? '&' : '?'}per_page=200`);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  assert.ok(r.json.pagination.total_pages <= 1, `${path} has more than 200 entries`);
  return r.json.resources as unknown[];
}

async function get(platform: TestPlatform, path: string): Promise<unknown> {
  const r = await api(platform, 'GET', path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** The desired state as the API shows it (no instances: those are actual state, and may move). */
export async function snapshotState(platform: TestPlatform): Promise<StateSnapshot> {
  const state: StateSnapshot = new Map();
  const apps = (await list(platform, '/v1/apps')) as Array<{ name: string }>;
  for (const app of apps) {
    const at = `/v1/apps/${encodeURIComponent(app.name)}`;
    state.set(`app:${app.name}`, app);
    state.set(`app:${app.name}:processes`, (await get(platform, `${at}/processes`)) as unknown);
    state.set(`app:${app.name}:releases`, await list(platform, `${at}/releases`));
    state.set(`app:${app.name}:env`, await get(platform, `${at}/env`));
  }
  state.set('routes', await list(platform, '/v1/routes'));
  return state;
}

/** What differs between two snapshots, one line per key (empty: the same), skipping keys `mayChange` accepts. */
export function compareSnapshots(before: StateSnapshot, after: StateSnapshot, mayChange: (key: string) => boolean = () => false): string[] {
  const differences: string[] = [];
  const show = (value: unknown) => {
    const text = JSON.stringify(value);
    return text.length > 300 ? `${text.slice(0, 300)}...` : text;
  };
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (mayChange(key)) continue;
    if (!before.has(key)) differences.push(`${key}: appeared ${show(after.get(key))}`);
    else if (!after.has(key)) differences.push(`${key}: vanished (was ${show(before.get(key))})`);
    else if (JSON.stringify(before.get(key)) !== JSON.stringify(after.get(key))) {
      differences.push(`${key}: was ${show(before.get(key))}, now ${show(after.get(key))}`);
    }
  }
  return differences;
}

/**
 * The app the chaos specs run: answers `<word> <index> pid <pid>` on / (`word` is `instance`
 * unless given: a second push can tell its release apart), pushed with the real git client from
 * `work/<name>`. Returns the push's exit code and output (not deployed yet).
 */
export async function pushChaosApp(platform: TestPlatform, work: string, name: string, word = 'instance'): Promise<{ code: number; output: string }> {
  const dir = join(work, name);
  await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
  await writeFile(
    join(dir, 'server.js'),
    `require('node:http').createServer((req, res) => res.end(${JSON.stringify(word)} + ' ' + process.env.INSTANCE_INDEX + ' pid ' + process.pid + '\\n')).listen(process.env.PORT);\n`,
  );
  await commitDir(dir);
  return git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${name}.git`, 'main'], dir);
}

/** Creates the app (with `env`, if given), pushes it, scales it to `instances` of 64 MB and waits until they run. */
export async function deployChaosApp(platform: TestPlatform, work: string, name: string, instances: number, env?: Record<string, string>): Promise<void> {
  assert.equal((await api(platform, 'POST', '/v1/apps', { name })).status, 201);
  if (env) assert.equal((await api(platform, 'PATCH', `/v1/apps/${name}/env`, { var: env })).status, 202);
  const push = await pushChaosApp(platform, work, name);
  assert.equal(push.code, 0, push.output);
  const scaled = await api(platform, 'POST', `/v1/apps/${name}/processes/web/actions/scale`, { instances, memory_mb: 64 });
  assert.equal(scaled.status, 202, JSON.stringify(scaled.json));
  await pollUntil(`${name}: the 64 MB release deployed`, async () => (await api(platform, 'GET', `/v1/apps/${name}/deployments?per_page=1`)).json.resources[0]?.state === 'DEPLOYED', { timeoutMs: 90_000 });
  await runningInstances(platform, name, instances);
}

export interface InstanceView {
  index: number;
  instance_id: string;
  state: string;
  cell_id: string;
}

/** Waits until exactly `n` instances of the app's web process run, indexes 0..n-1 once each; returns them by index. */
export async function runningInstances(platform: TestPlatform, app: string, n: number, timeoutMs = 60_000): Promise<InstanceView[]> {
  return pollUntil(
    `${n} instances of ${app} running`,
    async () => {
      const all = (await api(platform, 'GET', `/v1/apps/${app}/instances`)).json.resources as InstanceView[];
      const live = all.filter((i) => i.state === 'RUNNING').sort((a, b) => a.index - b.index);
      return all.length === n && live.length === n && live.every((x, k) => x.index === k) ? live : undefined;
    },
    { timeoutMs },
  );
}

export interface ChaosCase {
  name: string;
  /** The router host the request loop sends to (an app that runs throughout). */
  host: string;
  /** Does the damage and resolves once the fault is over (a process killed, Redis resumed): the recovery clock starts then. */
  inject(): Promise<void>;
  /** Resolves once the platform has recovered (poll with a deadline: pollUntil). */
  recovered(): Promise<void>;
  /** Failed requests the case tolerates (default 0) and why; printed beside the figures. */
  allowedFailures?: { count: number; why: string };
  /** Snapshot keys the case may change (evaluated after recovery), e.g. an app it pushed. */
  mayChange?: (key: string) => boolean;
  /** How long the request loop goes on after recovery, to catch late failures (default 1 s). */
  settleMs?: number;
  /** Pause between the loop's requests (default PAUSE_MS); a short fault wants a denser loop. */
  pauseMs?: number;
}

export interface ChaosResult {
  name: string;
  total: number;
  failed: number;
  failures: string[];
  /** From the end of the fault (inject resolved) to recovered resolved. */
  recoveryMs: number;
  /** From the first failed request to the last (0 without failures). */
  outageMs: number;
  differences: string[];
}

/** Pause between the loop's requests: about 15 a second, as the hand-run measurement (one every 50 ms). */
const PAUSE_MS = 50;

/**
 * Runs one case: a snapshot, the request loop (bounded: 3,000 requests, 3 minutes), a few answers
 * first, the fault, the recovery, `settleMs` more traffic, a second snapshot. Prints
 * `chaos <name>: failed F / total T, recovery R s, outage O s`, then asserts that F is within the
 * allowance and that the snapshots agree (but for `mayChange`). Returns the figures.
 */
export async function runChaosCase(platform: TestPlatform, c: ChaosCase): Promise<ChaosResult> {
  const before = await snapshotState(platform);
  const traffic = trafficLoop(platform, c.host, { maxRequests: 3_000, maxMs: 180_000, pauseMs: c.pauseMs ?? PAUSE_MS });
  let recoveryMs = Number.NaN;
  let outcome: { ok: number; failures: string[]; failedAt: number[] };
  try {
    await pollUntil(`${c.name}: the request loop answered`, async () => traffic.ok >= 5, { timeoutMs: 30_000 });
    await c.inject();
    const faultOver = Date.now();
    await c.recovered();
    recoveryMs = Date.now() - faultOver;
    await new Promise((r) => setTimeout(r, c.settleMs ?? 1_000));
  } finally {
    outcome = await traffic.end();
  }
  const failed = outcome.failures.length;
  const total = outcome.ok + failed;
  const outageMs = failed > 0 ? outcome.failedAt[failed - 1]! - outcome.failedAt[0]! : 0;
  const after = await snapshotState(platform);
  const differences = compareSnapshots(before, after, c.mayChange);
  const allowed = c.allowedFailures?.count ?? 0;
  console.log(
    `chaos ${c.name}: failed ${failed} / total ${total}, recovery ${(recoveryMs / 1000).toFixed(2)} s, outage ${(outageMs / 1000).toFixed(2)} s` +
      ` (allowed ${allowed}${c.allowedFailures ? `: ${c.allowedFailures.why}` : ''})`,
  );
  assert.ok(outcome.ok > 10, `${c.name}: the request loop got ${outcome.ok} answers`);
  assert.ok(failed <= allowed, `${c.name}: ${failed} of ${total} requests failed (allowed ${allowed}): ${[...new Set(outcome.failures)].slice(0, 5).join('; ')}`);
  assert.deepEqual(differences, [], `${c.name}: apps, routes, releases and env unchanged`);
  return { name: c.name, total, failed, failures: outcome.failures, recoveryMs, outageMs, differences };
}
