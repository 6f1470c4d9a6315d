/**
 * tools/bench/services: how long a backing service takes, side by side in one run on one
 * platform: provisioning (POST /v1/service_instances to `succeeded`: volume, initdb, server up,
 * prepared) of postgresql and of redis; and binding (POST of the binding to the first query the
 * app answers through the router with DATABASE_URL) against a plain env change of the same app
 * (set-env to its first answer with the new value): the ratio is what a binding costs beyond the
 * release roll both do. BENCH_RUNS (default 3) sets the number of runs of each; prints medians.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NpmRegistryFixture } from '@paas/testing';
import type { ServiceInstanceView } from '@paas/contracts';
import { commitDir, git, startIsolatedPlatformWithRegistry, stopIsolatedPlatformWithRegistry, writeExpressApp, type TestPlatform } from '@paas/test-platform';
import { pollUntil, StopPolling } from '@paas/local-services';
import { benchApi, routerGet } from './bench-kit';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Answers `{db: 'ok'}` once a query through DATABASE_URL worked, `{marker}` with the MARKER variable. */
const QUERY_SERVER = `
const http = require('http');
const { Client } = require('pg');
http.createServer(async (req, res) => {
  let db = null;
  if (process.env.DATABASE_URL) {
    const client = new Client({ connectionString: process.env.DATABASE_URL });
    try { await client.connect(); db = (await client.query('SELECT 1 AS one')).rows[0].one === 1 ? 'ok' : 'wrong'; } catch (e) { db = e.message; } finally { client.end().catch(() => {}); }
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ db, marker: process.env.MARKER || null }));
}).listen(Number(process.env.PORT), '0.0.0.0');
`;

async function provision(platform: TestPlatform, offering: string, name: string): Promise<number> {
  const t0 = Date.now();
  await benchApi(platform, 'POST', '/v1/service_instances', { name, offering, plan: 'small' });
  await pollUntil(`${name} to be created`, async () => {
    const view = await benchApi<ServiceInstanceView>(platform, 'GET', `/v1/service_instances/${name}`);
    if (view.last_operation.state === 'failed') throw new StopPolling(new Error(`${name}: ${view.last_operation.description}`));
    return view.last_operation.state === 'succeeded';
  }, { timeoutMs: 180_000, intervalMs: 100 });
  return Date.now() - t0;
}

/** Polls the app through the router until its JSON answer satisfies `check`; the time since t0. */
async function firstAnswer(platform: TestPlatform, app: string, t0: number, check: (body: { db: string | null; marker: string | null }) => boolean): Promise<number> {
  return pollUntil(`${app} to answer as expected`, async () => {
    const r = await routerGet(platform, `${app}.${platform.appsDomain}`);
    if (r.status !== 200) return undefined;
    return check(JSON.parse(r.text)) ? Date.now() - t0 : undefined;
  }, { timeoutMs: 180_000, intervalMs: 50 });
}

/** Waits until no deployment of the app runs: the first answer of a change comes from its first new instance, while the roll goes on (the next change would be a 409). */
async function settled(platform: TestPlatform, app: string): Promise<void> {
  await pollUntil(`the deployment of ${app} to end`, async () => {
    const { resources } = await benchApi<{ resources: Array<{ state: string }> }>(platform, 'GET', `/v1/apps/${app}/deployments?per_page=1`);
    return !resources[0] || resources[0].state !== 'DEPLOYING';
  }, { timeoutMs: 180_000, intervalMs: 100 });
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'paas-bench-services-'));
  let platform: TestPlatform | undefined;
  let registries: NpmRegistryFixture[] = [];
  try {
    ({ platform, registries } = await startIsolatedPlatformWithRegistry(2, ['pg']));
    const app = 'querier';
    await benchApi(platform, 'POST', '/v1/apps', { name: app });
    const dir = join(work, app);
    await writeExpressApp(dir, { name: app, version: '1.0.0', scripts: { start: 'node server.js' }, dependencies: { pg: '^8.0.0' } }, { registry: registries[0]!.url, npmCache: join(work, 'npm-cache'), server: QUERY_SERVER });
    await commitDir(dir);
    const pushed = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${app}.git`, 'main'], dir);
    if (pushed.code !== 0) throw new Error(`push failed:\n${pushed.output}`);
    await firstAnswer(platform, app, Date.now(), (b) => b.db === null);
    await settled(platform, app);

    const provisioned: Record<string, number[]> = { postgresql: [], redis: [] };
    const bind: number[] = [];
    const envChange: number[] = [];
    for (let i = 0; i < runs; i++) {
      for (const offering of ['postgresql', 'redis']) provisioned[offering]!.push(await provision(platform, offering, `${offering}-${i}`));
      let t0 = Date.now();
      await benchApi(platform, 'PATCH', `/v1/apps/${app}/env`, { var: { MARKER: `m${i}` } });
      envChange.push(await firstAnswer(platform, app, t0, (b) => b.marker === `m${i}`));
      await settled(platform, app);
      t0 = Date.now();
      await benchApi(platform, 'POST', `/v1/apps/${app}/service_bindings`, { service_instance: `postgresql-${i}` });
      bind.push(await firstAnswer(platform, app, t0, (b) => b.db === 'ok'));
      await settled(platform, app);
      await benchApi(platform, 'DELETE', `/v1/apps/${app}/service_bindings/postgresql-${i}`);
      await firstAnswer(platform, app, Date.now(), (b) => b.db === null);
      await settled(platform, app);
    }
    const pg = median(provisioned.postgresql!);
    const redis = median(provisioned.redis!);
    console.log(`provision postgresql small: median ${pg} ms (runs ${provisioned.postgresql!.join(', ')})`);
    console.log(`provision redis small:      median ${redis} ms (runs ${provisioned.redis!.join(', ')}); postgresql/redis ${(pg / redis).toFixed(2)}x`);
    console.log(`bind to first query:        median ${median(bind)} ms (runs ${bind.join(', ')})`);
    console.log(`env change to first answer: median ${median(envChange)} ms (runs ${envChange.join(', ')}); bind/env change ${(median(bind) / median(envChange)).toFixed(2)}x`);
  } finally {
    await stopIsolatedPlatformWithRegistry(platform, registries);
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
