/**
 * Issue 15, resizing a managed instance and service keys, as a Cloud Foundry user meets them:
 * `update-service orders-db -p medium` grows a real Postgres (runc, on its cell's volume) while a
 * bound app keeps its rows and keeps working; `create-service-key` gives credentials that connect
 * from the platform's host (where the cells' network rules admit them) and from no unbound app's
 * container; `delete-service` is refused while a key exists; `delete-service-key` refuses the
 * key's login at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { NpmRegistryFixture } from '@paas/testing';
import { startIsolatedPlatformWithRegistry, stopIsolatedPlatformWithRegistry, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';
import { adminCli, api, pushServerApp, viaRouter } from './test-platform';
import { PROBE_FUNCTION, PROBE_SERVER } from './probe-app';

/** Orders in Postgres through DATABASE_URL: /add?n= inserts n rows, / counts them. */
const ORDERS_SERVER = `
const http = require('http');
const { Pool } = require('pg');
${PROBE_FUNCTION}
const pool = process.env.DATABASE_URL ? new Pool({ connectionString: process.env.DATABASE_URL, max: 2 }) : undefined;
if (pool) pool.on('error', () => undefined);
async function handle(url) {
  if (url.pathname === '/probe') return probeAll(url);
  if (!pool) return { error: 'no DATABASE_URL' };
  await pool.query('CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, item text NOT NULL)');
  if (url.pathname === '/add') await pool.query("INSERT INTO orders (item) SELECT 'item ' || g FROM generate_series(1, $1::int) g", [Number(url.searchParams.get('n') || 1)]);
  return { orders: (await pool.query('SELECT count(*)::int AS n FROM orders')).rows[0].n };
}
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  handle(new URL(req.url, 'http://app')).then((body) => res.end(JSON.stringify(body)), (e) => { res.statusCode = 500; res.end(JSON.stringify({ error: e.message })); });
}).listen(Number(process.env.PORT), '0.0.0.0');
`;

type Credentials = Record<string, string | number>;

describe('backing services: resize and service keys', () => {
  let platform: TestPlatform;
  let registries: NpmRegistryFixture[] = [];
  let work: string;
  let space: string;
  let key: Credentials;
  const host = (name: string) => `${name}.${platform.appsDomain}`;
  const cli = () => adminCli(platform, work);
  const gateways = () => platform.cells.map((c) => c.subnet.replace(/\.0\/24$/, '.1'));

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the app's JSON answers
  async function answers(name: string, path: string, check: (body: any) => boolean, what: string): Promise<any> {
    return pollUntil(`${name}${path} ${what}`, async () => {
      const r = await viaRouter(platform, host(name), path).catch(() => undefined);
      if (r?.status !== 200) return undefined;
      const body = JSON.parse(r.text);
      return check(body) ? body : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
  }

  const pushApp = (name: string, files: { server: string; dependencies?: Record<string, string> }) => pushServerApp(platform, { work, registries }, name, space, files);

  /** Connects with the key from this host (the cell's, where the platform runs) and counts the orders. */
  async function countWithKey(credentials: Credentials): Promise<number> {
    const client = new pg.Client({ connectionString: String(credentials.uri), connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.query('SELECT count(*)::int AS n FROM orders')).rows[0].n as number;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-service-update-'));
    ({ platform, registries } = await startIsolatedPlatformWithRegistry(1, ['pg']));
    const org = (await api(platform, 'POST', '/v1/orgs', { name: 'acme' })).json.id;
    space = (await api(platform, 'POST', '/v1/spaces', { name: 'shop', org_id: org })).json.id;
  });

  after(async () => {
    try {
      assert.deepEqual(await stopIsolatedPlatformWithRegistry(platform, registries), [], 'the platform leaves no bridge, veth, netns or iptables rule behind');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  test('a bound app writes rows to a small Postgres', async () => {
    await cli().ok(['create-service', 'postgresql', 'small', 'orders-db', '--space', space]);
    await pushApp('orders', { server: ORDERS_SERVER, dependencies: { pg: '^8.0.0' } });
    await cli().ok(['bind-service', 'orders', 'orders-db']);
    await answers('orders', '/', (b) => typeof b.orders === 'number', 'to reach its database');
    assert.equal((await answers('orders', '/add?n=1000', (b) => typeof b.orders === 'number', 'to add rows')).orders, 1000);
  });

  test('a service key connects from the platform\'s host and from no unbound app', async () => {
    const created = await cli().paas(['create-service-key', 'orders-db', 'ops']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /connect only from the platform's hosts/);
    key = JSON.parse(created.stdout) as Credentials;
    assert.match(String(key.username), /^k_[0-9a-f]{32}$/);
    assert.equal(await countWithKey(key), 1000, 'the key reads the app\'s rows (it acts as the instance\'s owner role)');
    assert.deepEqual(JSON.parse(await cli().ok(['service-key', 'orders-db', 'ops'])), key);
    assert.match(await cli().ok(['service-keys', 'orders-db']), /^ops\s/m);
    // An app of the space that is not bound: its container is refused at every address of the server.
    await pushApp('prober', { server: PROBE_SERVER });
    const targets = [...gateways().map((gw) => `${gw}:${key.port}`), `${key.host}:${key.port}`];
    const seen = await answers('prober', `/probe?targets=${targets.join(',')}`, () => true, 'to probe');
    assert.deepEqual(Object.entries(seen).filter(([, r]) => r === 'open'), [], JSON.stringify(seen));
  });

  test('update-service -p medium grows the instance: the rows stay, the app keeps working, the key still connects', async () => {
    const shrink = await cli().paas(['update-service', 'orders-db', '-p', 'huge']);
    assert.equal(shrink.code, 1);
    assert.match(shrink.stderr, /choose one of small, medium/);
    const out = await cli().ok(['update-service', 'orders-db', '-p', 'medium']);
    assert.match(out, /updated service orders-db to plan medium/);
    const view = (await api(platform, 'GET', `/v1/service_instances/orders-db?space_id=${space}`)).json;
    assert.equal(view.plan, 'medium');
    assert.deepEqual({ type: view.last_operation.type, state: view.last_operation.state }, { type: 'update', state: 'succeeded' });
    assert.equal(view.status, 'available', JSON.stringify(view));
    assert.match(await cli().ok(['services']), /orders-db\s+postgresql\s+medium/);
    // The app reconnects (its pool drops the connections the restart ended) and finds every row.
    const grown = await answers('orders', '/add?n=10', (b) => typeof b.orders === 'number', 'to work after the resize');
    assert.equal(grown.orders, 1010);
    assert.equal(await countWithKey(key), 1010);
    // The server runs with the new memory: postgres was started with shared_buffers of a quarter of 1 GB.
    const client = new pg.Client({ connectionString: String(key.uri) });
    await client.connect();
    try {
      assert.equal((await client.query('SHOW shared_buffers')).rows[0].shared_buffers, '256MB');
    } finally {
      await client.end();
    }
    const back = await cli().paas(['update-service', 'orders-db', '-p', 'small']);
    assert.equal(back.code, 1);
    assert.match(back.stderr, /a plan change cannot shrink the disk \(10240 MB → 1024 MB\): create a new instance from a backup instead/);
  });

  test('delete-service is refused while a key exists; delete-service-key refuses the key\'s login at once; then the instance can go', async () => {
    await cli().ok(['unbind-service', 'orders', 'orders-db']);
    const refused = await cli().paas(['delete-service', 'orders-db', '-f']);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /delete its service keys first: paas delete-service-key orders-db ops/);
    await cli().ok(['delete-service-key', 'orders-db', 'ops', '-f']);
    await assert.rejects(countWithKey(key), /password authentication failed|does not exist|not permitted to log in/);
    assert.match(await cli().ok(['service-keys', 'orders-db']), /has no keys/);
    await cli().ok(['delete-service', 'orders-db', '-f']);
    assert.equal((await api(platform, 'GET', `/v1/service_instances/orders-db?space_id=${space}`)).status, 404);
  });
});
