/**
 * tools/bench/logs: app logs on a whole isolated platform (one cell, so both apps share its log
 * shipper), followed through the controller's SSE stream (`GET /v1/apps/:app/logs/stream`):
 *   1. delivery latency: BENCH_LOG_REQUESTS (default 200) requests to `/log?id=N`, ~20 ms apart,
 *      each printing one line; time from the router's answer to the line arriving on the stream
 *      (p50/p99/max), split into app print -> Redis and Redis -> SSE client;
 *   2. one burst of 5000 lines (`/burst?n=5000`): how many are kept and arrive within 10 s, how many
 *      the cell says it dropped (the `app log rate limit: N lines dropped ...` marker), when the
 *      kept ones arrived;
 *   3. isolation: app B logs a line every 50 ms (a request each), first alone, then while app A
 *      bursts 5000 lines every second; B's delivery latency during vs before, and A's kept rate
 *      once its bucket is empty against the configured limit (PAAS_APP_LOG_RATE_LIMIT).
 * Traffic goes to 127.0.0.1 only (router, API); every loop is bounded in count and time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchApi, routerGet, waitForDeployed } from './bench-kit';
import { commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, writeFiles, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';

const REQUESTS = Number(process.env.BENCH_LOG_REQUESTS ?? 200);
const REQUEST_GAP_MS = 20;
const BURST_LINES = 5000;
const BURST_WINDOW_MS = 10_000;
const B_GAP_MS = 50;
const B_BEFORE_MS = 3_000;
const A_BURSTS = 8;
const A_BURST_GAP_MS = 1_000;
const DEPLOY_TIMEOUT_MS = 120_000;
const ARRIVAL_TIMEOUT_MS = 10_000;
/** Marker windows are 5 s after the first drop: wait this long past the last burst for the last one. */
const MARKER_TIMEOUT_MS = 12_000;
const APP_A = 'logs-a';
const APP_B = 'logs-b';

/** Prints one line per /log request (its id and the time), or n lines as fast as it can for /burst. */
const SERVER_JS = `
const http = require('node:http');
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  if (url.pathname === '/log') {
    console.log('log id=' + url.searchParams.get('id') + ' t=' + Date.now());
    res.end('ok\\n');
  } else if (url.pathname === '/burst') {
    const n = Math.min(100000, Number(url.searchParams.get('n')) || 0);
    const r = url.searchParams.get('r') || '0';
    const t0 = Date.now();
    for (let i = 0; i < n; i++) console.log('burst r=' + r + ' i=' + i + ' t=' + Date.now());
    res.end('printed ' + n + ' in ' + (Date.now() - t0) + ' ms\\n');
  } else {
    res.end('logs bench app\\n');
  }
}).listen(Number(process.env.PORT), () => console.log('logs bench app listening on ' + process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

interface Arrival {
  /** When the bench read the event (ms, this host's clock). */
  at: number;
  /** The entry's timestamp: when it reached Redis. */
  redisAt: number;
  /** The time the app printed it (from the line). */
  printedAt: number;
}

interface Marker {
  at: number;
  dropped: number;
  rate: number;
  burst: number;
  text: string;
}

/** One app's SSE stream, parsed as it arrives: the bench's lines by id, burst lines per run, markers. */
class LogFollower {
  readonly lines = new Map<string, Arrival>();
  readonly bursts = new Map<string, Arrival[]>();
  readonly markers: Marker[] = [];
  events = 0;
  ready = false;
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly platform: TestPlatform,
    readonly app: string,
  ) {}

  async start(): Promise<void> {
    const res = await fetch(`${this.platform.apiUrl}/v1/apps/${this.app}/logs/stream`, {
      headers: { authorization: `Bearer ${this.platform.adminToken}`, accept: 'text/event-stream' },
      signal: this.abort.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`log stream of ${this.app}: ${res.status} ${await res.text()}`);
    this.done = this.read(res.body);
    for (let i = 0; i < 100 && !this.ready; i++) await sleep(50);
    if (!this.ready) throw new Error(`log stream of ${this.app}: no "streaming the log" comment within 5 s`);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let raw = '';
    try {
      for await (const chunk of body) {
        const at = Date.now();
        raw += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, '\n');
        for (let end = raw.indexOf('\n\n'); end >= 0; end = raw.indexOf('\n\n')) {
          this.frame(raw.slice(0, end), at);
          raw = raw.slice(end + 2);
        }
      }
    } catch {
      // aborted
    }
  }

  private frame(frame: string, at: number): void {
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) {
        if (line.slice(1).trim().startsWith('streaming the log of')) this.ready = true;
      } else if (line.startsWith('data:')) {
        data += line.slice(line.charAt(5) === ' ' ? 6 : 5);
      }
    }
    if (!data) return;
    this.events++;
    const entry = JSON.parse(data) as { timestamp: string; source: string; text: string };
    const redisAt = Date.parse(entry.timestamp);
    if (entry.source.startsWith('APP/PROC/')) {
      const log = /^log id=(\S+) t=(\d+)$/.exec(entry.text);
      if (log) {
        this.lines.set(log[1], { at, redisAt, printedAt: Number(log[2]) });
        return;
      }
      const burst = /^burst r=(\S+) i=\d+ t=(\d+)$/.exec(entry.text);
      if (burst) {
        let list = this.bursts.get(burst[1]);
        if (!list) this.bursts.set(burst[1], (list = []));
        list.push({ at, redisAt, printedAt: Number(burst[2]) });
      }
    } else if (entry.source.startsWith('CELL/')) {
      const m = /app log rate limit: (\d+) lines? dropped in the last \d+ s \(.* writes at most (\d+) lines\/s per app, bursts of (\d+)\)/.exec(entry.text);
      if (m) this.markers.push({ at, dropped: Number(m[1]), rate: Number(m[2]), burst: Number(m[3]), text: entry.text });
    }
  }
}

/** Percentile (nearest rank) of a list; NaN when empty. */
function pct(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : '-');
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? (a / b).toFixed(2) : '-');

/** Latencies of the lines sent with these ids: router answer -> SSE, print -> Redis, Redis -> SSE. */
function latencies(follower: LogFollower, answered: Map<string, number>) {
  const total: number[] = [];
  const toRedis: number[] = [];
  const fromRedis: number[] = [];
  let missing = 0;
  for (const [id, t] of answered) {
    const a = follower.lines.get(id);
    if (!a) {
      missing++;
      continue;
    }
    total.push(a.at - t);
    toRedis.push(a.redisAt - a.printedAt);
    fromRedis.push(a.at - a.redisAt);
  }
  return { total, toRedis, fromRedis, missing, sent: answered.size };
}

type Latencies = ReturnType<typeof latencies>;
const describeLatency = (l: Latencies) =>
  `p50 ${ms(pct(l.total, 0.5))}, p99 ${ms(pct(l.total, 0.99))}, max ${ms(pct(l.total, 1))}` +
  `  (print->Redis p50 ${ms(pct(l.toRedis, 0.5))}, Redis->SSE p50 ${ms(pct(l.fromRedis, 0.5))}; ${l.total.length}/${l.sent} arrived)`;

/**
 * Sends `count` requests to /log, one every gapMs (not waiting for the previous answer), ids
 * `${prefix}-<n>`, stopping early at `until`; resolves with when the router answered each (200 only).
 */
async function logRequests(platform: TestPlatform, app: string, prefix: string, count: number, gapMs: number, until = Infinity): Promise<Map<string, number>> {
  const answered = new Map<string, number>();
  const host = `${app}.${platform.appsDomain}`;
  const inflight: Array<Promise<void>> = [];
  const t0 = Date.now();
  for (let i = 0; i < count && Date.now() < until; i++) {
    const wait = t0 + i * gapMs - Date.now();
    if (wait > 0) await sleep(wait);
    const id = `${prefix}-${i}`;
    inflight.push(
      routerGet(platform, host, agent, `/log?id=${id}`).then((r) => {
        if (r.status === 200) answered.set(id, Date.now());
      }),
    );
  }
  await Promise.all(inflight);
  return answered;
}

/** Waits (bounded) until every answered id arrived on the stream. */
async function waitForLines(follower: LogFollower, ids: Iterable<string>, timeoutMs = ARRIVAL_TIMEOUT_MS): Promise<void> {
  const list = [...ids];
  // A line that never comes is counted as lost by the caller, not an error here.
  await pollUntil('every answered id on the stream', () => list.every((id) => follower.lines.has(id)), { timeoutMs, intervalMs: 50 }).catch(() => undefined);
}

async function burst(platform: TestPlatform, app: string, run: string): Promise<number> {
  const r = await routerGet(platform, `${app}.${platform.appsDomain}`, agent, `/burst?n=${BURST_LINES}&r=${run}`);
  if (r.status !== 200) throw new Error(`/burst on ${app}: status ${r.status}`);
  return Date.now();
}

async function pushApp(platform: TestPlatform, work: string, app: string): Promise<void> {
  await benchApi(platform, 'POST', '/v1/apps', { name: app });
  const dir = join(work, app);
  await writeFiles(dir, { Procfile: 'web: node server.js\n', 'server.js': SERVER_JS });
  await commitDir(dir);
  const push = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${app}.git`, 'main'], dir);
  if (push.code !== 0) throw new Error(`push of ${app} failed:\n${push.output}`);
  await waitForDeployed(platform, app, app, { timeoutMs: DEPLOY_TIMEOUT_MS, pollMs: 200 });
  for (let i = 0; i < 150; i++) {
    if ((await routerGet(platform, `${app}.${platform.appsDomain}`, agent)).status === 200) return;
    await sleep(100);
  }
  throw new Error(`${app} does not answer through the router`);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'paas-bench-logs-'));
  let platform: TestPlatform | undefined;
  const followers: LogFollower[] = [];
  const out: string[] = [];
  try {
    const tBoot = Date.now();
    platform = await startIsolatedPlatform(1);
    console.log(`platform up in ${Date.now() - tBoot} ms (1 cell)`);
    const tPush = Date.now();
    await Promise.all([pushApp(platform, work, APP_A), pushApp(platform, work, APP_B)]);
    console.log(`${APP_A} and ${APP_B} pushed and answering in ${Date.now() - tPush} ms`);
    const a = new LogFollower(platform, APP_A);
    const b = new LogFollower(platform, APP_B);
    followers.push(a, b);
    await a.start();
    await b.start();

    // 1. Delivery latency of single lines.
    const sent1 = await logRequests(platform, APP_A, 'p1', REQUESTS, REQUEST_GAP_MS);
    await waitForLines(a, sent1.keys());
    const lat1 = latencies(a, sent1);
    console.log(`1. ${REQUESTS} lines, one per ${REQUEST_GAP_MS} ms: router answer -> SSE ${describeLatency(lat1)}`);

    // 2. One burst of 5000 lines against the rate limit.
    await sleep(1_000);
    const markersBefore2 = a.markers.length;
    const tBurst = await burst(platform, APP_A, 'p2');
    const end2 = Date.now() + MARKER_TIMEOUT_MS;
    while (Date.now() < end2 && a.markers.length === markersBefore2) await sleep(100);
    await sleep(300);
    const kept2 = (a.bursts.get('p2') ?? []).filter((x) => x.at - tBurst <= BURST_WINDOW_MS);
    const marker2 = a.markers.slice(markersBefore2);
    const dropped2 = marker2.reduce((s, m) => s + m.dropped, 0);
    const rate = marker2[0]?.rate ?? 200;
    const bucket = marker2[0]?.burst ?? 1000;
    const firstAt = Math.min(...kept2.map((x) => x.at));
    const lastAt = Math.max(...kept2.map((x) => x.at));
    const burstLatency = kept2.map((x) => x.at - x.printedAt);
    console.log(
      `2. burst of ${BURST_LINES}: kept ${kept2.length} within ${BURST_WINDOW_MS / 1000} s, dropped ${dropped2} (marker ${ms((marker2[0]?.at ?? NaN) - tBurst)} after), ` +
        `first/last kept line ${ms(firstAt - tBurst)}/${ms(lastAt - tBurst)} after the answer`,
    );

    // 3. Isolation: B alone, then B while A bursts every second.
    await sleep(500);
    const before = await logRequests(platform, APP_B, 'pre', Math.ceil(B_BEFORE_MS / B_GAP_MS), B_GAP_MS);
    const markersBefore3 = a.markers.length;
    const burstTimes: number[] = [];
    const t3 = Date.now();
    const bursting = (async () => {
      for (let i = 0; i < A_BURSTS; i++) {
        const wait = t3 + i * A_BURST_GAP_MS - Date.now();
        if (wait > 0) await sleep(wait);
        burstTimes.push(await burst(platform!, APP_A, `p3-${i}`));
      }
    })();
    const during = await logRequests(platform, APP_B, 'during', Math.ceil((A_BURSTS * A_BURST_GAP_MS) / B_GAP_MS), B_GAP_MS, t3 + A_BURSTS * A_BURST_GAP_MS);
    await bursting;
    await waitForLines(b, [...before.keys(), ...during.keys()]);
    const printed3 = A_BURSTS * BURST_LINES;
    const keptIn = (i: number) => (a.bursts.get(`p3-${i}`) ?? []).length;
    const kept3 = () => Array.from({ length: A_BURSTS }, (_, i) => keptIn(i)).reduce((s, n) => s + n, 0);
    const dropped3 = () => a.markers.slice(markersBefore3).reduce((s, m) => s + m.dropped, 0);
    const end3 = burstTimes[burstTimes.length - 1] + MARKER_TIMEOUT_MS;
    while (Date.now() < end3 && kept3() + dropped3() < printed3) await sleep(100);
    const latBefore = latencies(b, before);
    const latDuring = latencies(b, during);
    // Once the first burst emptied A's bucket, each later burst keeps what refilled since the one before.
    const refillSpan = (burstTimes[A_BURSTS - 1] - burstTimes[0]) / 1000;
    const keptAfterFirst = kept3() - keptIn(0);
    const sustained = keptAfterFirst / refillSpan;
    console.log(`3. ${APP_B} alone:              ${describeLatency(latBefore)}`);
    console.log(`   ${APP_B} while ${APP_A} bursts:  ${describeLatency(latDuring)}`);
    console.log(
      `   ${APP_A}: ${A_BURSTS} bursts of ${BURST_LINES} printed ${printed3}, kept ${kept3()} (per burst ${Array.from({ length: A_BURSTS }, (_, i) => keptIn(i)).join('/')}), ` +
        `dropped ${dropped3()} (${a.markers.length - markersBefore3} markers)`,
    );

    out.push(
      `logs (1 cell; SSE follower of each app; configured limit ${rate} lines/s, burst ${bucket})`,
      `  delivery, router answer -> SSE (${lat1.total.length}/${lat1.sent} lines, ${REQUEST_GAP_MS} ms apart)`,
      `    p50 ${ms(pct(lat1.total, 0.5))}   p99 ${ms(pct(lat1.total, 0.99))}   max ${ms(pct(lat1.total, 1))}`,
      `    of which print -> Redis p50 ${ms(pct(lat1.toRedis, 0.5))} (p99 ${ms(pct(lat1.toRedis, 0.99))}), Redis -> SSE p50 ${ms(pct(lat1.fromRedis, 0.5))} (p99 ${ms(pct(lat1.fromRedis, 0.99))})`,
      `  burst of ${BURST_LINES} lines (one request)`,
      `    kept ${kept2.length} (${((100 * kept2.length) / BURST_LINES).toFixed(1)}%), dropped ${dropped2} per marker, accounted ${kept2.length + dropped2}/${BURST_LINES}`,
      `    kept lines arrived ${ms(firstAt - tBurst)} .. ${ms(lastAt - tBurst)} after the answer (all within ${ms(lastAt - firstAt)} of each other); print -> SSE p50 ${ms(pct(burstLatency, 0.5))}, max ${ms(pct(burstLatency, 1))}`,
      `    marker line ${ms((marker2[0]?.at ?? NaN) - tBurst)} after the burst: ${marker2[0]?.text ?? '(none)'}`,
      `  sustained flood (${A_BURSTS} x ${BURST_LINES} lines, ${A_BURST_GAP_MS} ms apart)`,
      `    kept after the first burst ${keptAfterFirst} in ${refillSpan.toFixed(2)} s = ${sustained.toFixed(0)} lines/s vs limit ${rate} (${ratio(sustained, rate)}x); accounted ${kept3() + dropped3()}/${printed3}`,
      `  isolation: ${APP_B} (a line per ${B_GAP_MS} ms) before vs during ${APP_A}'s flood`,
      `    before  p50 ${ms(pct(latBefore.total, 0.5))}   p99 ${ms(pct(latBefore.total, 0.99))}   (${latBefore.total.length}/${latBefore.sent})`,
      `    during  p50 ${ms(pct(latDuring.total, 0.5))}   p99 ${ms(pct(latDuring.total, 0.99))}   (${latDuring.total.length}/${latDuring.sent})`,
      `    during/before  p50 ${ratio(pct(latDuring.total, 0.5), pct(latBefore.total, 0.5))}x   p99 ${ratio(pct(latDuring.total, 0.99), pct(latBefore.total, 0.99))}x`,
    );
  } finally {
    for (const f of followers) await f.stop().catch(() => undefined);
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
