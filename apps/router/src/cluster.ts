import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { startAdminServer, type AdminServer } from '@paas/admin-http';
import type { RouterHealth } from './router-health';
import type { RouterConfig } from './config';
import type { RunningRouter } from './router';

/** IPC messages between the primary and its workers (prom-client has its own for metrics). */
type ClusterMessage =
  | { type: 'paas-router:drain' }
  | { type: 'paas-router:health-request'; id: number }
  | { type: 'paas-router:health'; id: number; health: RouterHealth };

const isClusterMessage = (m: unknown): m is ClusterMessage =>
  typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('paas-router:');

/** A worker that dies this soon after its start is restarted after a growing delay (crash loop). */
const QUICK_DEATH_MS = 5_000;
const HEALTH_TIMEOUT_MS = 2_000;

/** The whole cluster is ok when every worker is: routes of the emptiest table, age of the oldest. */
function combineHealth(all: readonly RouterHealth[]): RouterHealth {
  if (all.length === 0 || all.some((h) => h.status !== 'ok')) return { status: 'starting', routes: Math.min(...all.map((h) => h.routes), 0) };
  return { status: 'ok', routes: Math.min(...all.map((h) => h.routes)), table_age_ms: Math.max(...all.map((h) => h.table_age_ms ?? 0)) };
}

/**
 * The cluster primary: forks `config.workers` router workers (they share the traffic port through
 * node:cluster, each with its own Redis sync), restarts one that dies, serves the admin port with
 * the workers' metrics summed by prom-client's AggregatorRegistry and their health combined,
 * and on SIGTERM/SIGINT tells every worker to drain, then exits once they all have (0), or
 * after the shutdown timeout plus 5 s, killing the rest (1). Call once, in the primary.
 */
export async function runClusterPrimary(config: RouterConfig, logger: Logger): Promise<void> {
  const workers = config.workers ?? 1;
  const aggregator = new AggregatorRegistry();
  const startedAt = new Map<number, number>();
  let quickDeaths = 0;
  let stopping = false;

  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
  };
  cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (stopping) return;
    quickDeaths = lived < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
    const delay = Math.min(250 * 2 ** quickDeaths, 10_000);
    logger.error({ event: 'router-worker-died', pid: worker.process.pid, code, signal, restartInMs: delay }, 'router worker died: restarting it');
    setTimeout(() => !stopping && fork(), delay).unref();
  });

  let healthSeq = 0;
  const pending = new Map<number, { replies: RouterHealth[]; expected: number; done: (h: RouterHealth) => void }>();
  cluster.on('message', (_worker: Worker, message: unknown) => {
    if (!isClusterMessage(message) || message.type !== 'paas-router:health') return;
    const request = pending.get(message.id);
    if (!request) return;
    request.replies.push(message.health);
    if (request.replies.length === request.expected) request.done(combineHealth(request.replies));
  });
  const health = () =>
    new Promise<RouterHealth>((resolve) => {
      const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
      if (live.length < workers) return resolve({ status: 'starting', routes: 0 });
      const id = ++healthSeq;
      const timer = setTimeout(() => done({ status: 'starting', routes: 0 }), HEALTH_TIMEOUT_MS);
      const done = (h: RouterHealth) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(h);
      };
      pending.set(id, { replies: [], expected: live.length, done });
      for (const w of live) w.send({ type: 'paas-router:health-request', id } satisfies ClusterMessage);
    });

  let admin: AdminServer | undefined;
  if (config.adminPort) {
    admin = await startAdminServer(
      config.adminAddress ?? '127.0.0.1',
      config.adminPort,
      { health, metrics: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }) },
      logger,
    );
  }
  for (let i = 0; i < workers; i++) fork();
  logger.info({ event: 'router-cluster-started', workers, adminPort: admin?.port }, 'router cluster started');

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'router-cluster-stopping', signal }, 'stopping the router workers');
    const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    for (const w of all) if (w.isConnected()) w.send({ type: 'paas-router:drain' } satisfies ClusterMessage);
    const exited = Promise.all(all.map((w) => (w.isDead() ? Promise.resolve() : new Promise<void>((resolve) => w.once('exit', () => resolve())))));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs + 5_000)));
    void Promise.race([exited.then(() => 'exited' as const), timedOut]).then(async (outcome) => {
      clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.error({ event: 'router-workers-stuck' }, 'router workers did not stop in time: killing them');
        for (const w of all) if (!w.isDead()) w.process.kill('SIGKILL');
      }
      await admin?.close();
      logger.info({ event: 'router-cluster-stopped' }, 'router cluster stopped');
      process.exit(outcome === 'exited' ? 0 : 1);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * Wires a started router into its cluster worker: its metrics answer the primary's
 * AggregatorRegistry, its health the primary's health requests, and a drain message calls `stop`.
 */
export function serveClusterWorker(router: RunningRouter, stop: (reason: string) => void): void {
  // The constructor installs prom-client's worker-side listener; ours is the router's own registry.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([router.metrics.registry]);
  process.on('message', (message: unknown) => {
    if (!isClusterMessage(message)) return;
    if (message.type === 'paas-router:drain') stop('drain');
    else if (message.type === 'paas-router:health-request') {
      process.send?.({ type: 'paas-router:health', id: message.id, health: router.health() } satisfies ClusterMessage);
    }
  });
}
