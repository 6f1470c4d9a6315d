/**
 * Issue 15, backing services, as a Heroku or Cloud Foundry user meets them: `paas marketplace`,
 * `create-service postgresql small` and `redis small` (real servers in runc containers on a cell,
 * on persistent volumes), `bind-service` of an app that uses `pg` through DATABASE_URL and one
 * that uses ioredis through REDIS_URL (both staged from the fixture registry), rows that outlive a
 * restart of the whole platform, an app of another space (and an unbound app) that cannot connect,
 * credentials refused once unbound, and `delete-service` removing the server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connect } from 'node:net';
import type { NpmRegistryFixture } from '@paas/testing';
import { startIsolatedPlatformWithRegistry, stopIsolatedPlatformWithRegistry, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';
import { adminCli, api, pushServerApp, viaRouter } from './test-platform';
import { PROBE_FUNCTION, PROBE_SERVER } from './probe-app';

/** Notes in Postgres through DATABASE_URL: /add?text= inserts, / lists; /env shows what it was given; /probe as the probe app. */
const LEDGER_SERVER = `
const http = require('http');
const { Pool } = require('pg');
${PROBE_FUNCTION}
const pool = process.env.DATABASE_URL ? new Pool({ connectionString: process.env.DATABASE_URL, max: 2 }) : undefined;
async function handle(url) {
  if (url.pathname === '/env') return { vcap: JSON.parse(process.env.VCAP_SERVICES || '{}'), databaseUrl: process.env.DATABASE_URL || null };
  if (url.pathname === '/probe') return probeAll(url);
  if (!pool) return { error: 'no DATABASE_URL' };
  await pool.query('CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, text text NOT NULL)');
  if (url.pathname === '/add') await pool.query('INSERT INTO notes (text) VALUES ($1)', [url.searchParams.get('text')]);
  return { notes: (await pool.query('SELECT text FROM notes ORDER BY id')).rows.map((r) => r.text) };
}
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  handle(new URL(req.url, 'http://app')).then((body) => res.end(JSON.stringify(body)), (e) => { res.statusCode = 500; res.end(JSON.stringify({ error: e.message })); });
}).listen(Number(process.env.PORT), '0.0.0.0');
`;

/** A counter in Redis through REDIS_URL: /incr adds one; /probe as the probe app. */
const COUNTER_SERVER = `
const http = require('http');
const { Redis } = require('ioredis');
${PROBE_FUNCTION}
const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined;
async function handle(url) {
  if (url.pathname === '/probe') return probeAll(url);
  if (url.pathname === '/env') return { redisUrl: process.env.REDIS_URL || null };
  if (!redis) return { error: 'no REDIS_URL' };
  if (url.pathname === '/incr') return { count: await redis.incr('visits') };
  return { count: Number(await redis.get('visits')) };
}
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  handle(new URL(req.url, 'http://app')).then((body) => res.end(JSON.stringify(body)), (e) => { res.statusCode = 500; res.end(JSON.stringify({ error: e.message })); });
}).listen(Number(process.env.PORT), '0.0.0.0');
`;

/** 'open' when a TCP connection to host:port is accepted within 2 s, else why not. */
function tcpProbe(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once('connect', () => { socket.destroy(); resolve('open'); });
    socket.once('timeout', () => { socket.destroy(); resolve('timeout'); });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- VCAP_SERVICES entries, checked field by field
type Binding = any;

describe('backing services: Postgres and Redis bound in one command', () => {
  let platform: TestPlatform;
  let registries: NpmRegistryFixture[] = [];
  let work: string;
  let shopSpace: string;
  let otherSpace: string;
  /** The ledger's postgresql binding as its container saw it (VCAP_SERVICES). */
  let ledgerBinding: Binding;
  const host = (name: string) => `${name}.${platform.appsDomain}`;
  const cli = () => adminCli(platform, work);
  const gateways = () => platform.cells.map((c) => c.subnet.replace(/\.0\/24$/, '.1'));

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the app's JSON answers
  async function ask(name: string, path: string): Promise<any> {
    const r = await viaRouter(platform, host(name), path);
    assert.equal(r.status, 200, `${name}${path}: ${r.status} ${r.text.slice(0, 300)}`);
    return JSON.parse(r.text);
  }

  /** Polls the app until `check` accepts its answer to `path` (a deploy rolling, a restart). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function answers(name: string, path: string, check: (body: any) => boolean, what: string): Promise<any> {
    return pollUntil(`${name}${path} ${what}`, async () => {
      const r = await viaRouter(platform, host(name), path).catch(() => undefined);
      if (r?.status !== 200) return undefined;
      const body = JSON.parse(r.text);
      return check(body) ? body : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
  }

  const pushApp = (name: string, spaceId: string, files: { server: string; dependencies?: Record<string, string> }) => pushServerApp(platform, { work, registries }, name, spaceId, files);

  /** Every endpoint this binding's server is reached at from a container: each cell's gateway and the port. */
  const endpointsOf = (binding: Binding) => gateways().map((gw) => `${gw}:${binding.credentials.port}`);

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-services-'));
    ({ platform, registries } = await startIsolatedPlatformWithRegistry(2, ['pg', 'ioredis']));
    const org = (await api(platform, 'POST', '/v1/orgs', { name: 'acme' })).json.id;
    shopSpace = (await api(platform, 'POST', '/v1/spaces', { name: 'shop', org_id: org })).json.id;
    otherSpace = (await api(platform, 'POST', '/v1/spaces', { name: 'elsewhere', org_id: org })).json.id;
  });

  after(async () => {
    try {
      assert.deepEqual(await stopIsolatedPlatformWithRegistry(platform, registries), [], 'the platform leaves no bridge, veth, netns or iptables rule behind');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  test('the marketplace lists postgresql and redis with their plans', async () => {
    const out = await cli().ok(['marketplace']);
    assert.match(out, /postgresql/);
    assert.match(out, /redis/);
    assert.match(out, /small/);
    const plans = (await api(platform, 'GET', '/v1/service_plans?offering=postgresql')).json.resources;
    assert.deepEqual(plans.map((p: { name: string }) => p.name), ['small', 'medium']);
    const bad = await cli().paas(['create-service', 'mysql', 'small', 'db', '--space', shopSpace]);
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stderr, /mysql.*(postgresql|redis)/s, 'an unknown offering names the ones that exist');
  });

  test('create-service runs a real Postgres and a real Redis, and waits until they are available', async () => {
    await cli().ok(['create-service', 'postgresql', 'small', 'ledger-db', '--space', shopSpace]);
    await cli().ok(['create-service', 'redis', 'small', 'cache', '--space', shopSpace]);
    const list = (await api(platform, 'GET', `/v1/service_instances?space_id=${shopSpace}`)).json.resources;
    assert.deepEqual(list.map((i: { name: string }) => i.name).sort(), ['cache', 'ledger-db']);
    for (const instance of list) {
      assert.deepEqual(instance.last_operation.type, 'create');
      assert.equal(instance.last_operation.state, 'succeeded', JSON.stringify(instance));
      assert.equal(instance.status, 'available', JSON.stringify(instance));
      assert.ok(instance.cell_id, 'placed on a cell');
    }
    assert.match(await cli().ok(['services']), /ledger-db\s+postgresql\s+small/);
  });

  test('bind-service gives the app VCAP_SERVICES and DATABASE_URL, and its rows are written and read', async () => {
    await pushApp('ledger', shopSpace, { server: LEDGER_SERVER, dependencies: { pg: '^8.0.0' } });
    assert.deepEqual(await ask('ledger', '/'), { error: 'no DATABASE_URL' }, 'unbound, the app has no database');
    await cli().ok(['bind-service', 'ledger', 'ledger-db']);
    const env = await answers('ledger', '/env', (b) => b.databaseUrl !== null, 'to have DATABASE_URL');
    const bindings = env.vcap.postgresql;
    assert.equal(bindings.length, 1, JSON.stringify(env.vcap));
    ledgerBinding = bindings[0];
    assert.equal(ledgerBinding.label, 'postgresql');
    assert.equal(ledgerBinding.name, 'ledger-db');
    assert.equal(ledgerBinding.instance_name, 'ledger-db');
    assert.equal(ledgerBinding.plan, 'small');
    assert.ok(ledgerBinding.tags.includes('postgresql'), JSON.stringify(ledgerBinding.tags));
    for (const key of ['uri', 'host', 'port', 'username', 'password', 'database']) assert.ok(ledgerBinding.credentials[key], `credentials.${key}`);
    assert.equal(env.databaseUrl, ledgerBinding.credentials.uri, 'DATABASE_URL is the binding uri');
    assert.ok(gateways().includes(ledgerBinding.credentials.host), 'a loopback cell address is given as the container\'s gateway');
    await ask('ledger', '/add?text=first');
    assert.deepEqual((await ask('ledger', '/add?text=second')).notes, ['first', 'second']);
  });

  test('an app bound to Redis counts through REDIS_URL', async () => {
    await pushApp('counter', shopSpace, { server: COUNTER_SERVER, dependencies: { ioredis: '^5.0.0' } });
    await cli().ok(['bind-service', 'counter', 'cache']);
    await answers('counter', '/', (b) => b.count !== undefined, 'to reach Redis');
    assert.equal((await ask('counter', '/incr')).count, 1);
    assert.equal((await ask('counter', '/incr')).count, 2);
    const bindings = (await api(platform, 'GET', '/v1/apps/counter/service_bindings')).json.resources;
    assert.deepEqual(bindings.map((b: { service_instance_name: string }) => b.service_instance_name), ['cache']);
  });

  test('another space\'s app cannot connect to either server, nor a neighbour bound to Redis alone to Postgres', async () => {
    await pushApp('intruder', otherSpace, { server: PROBE_SERVER });
    const redisPort = new URL((await ask('counter', '/env')).redisUrl).port;
    const targets = [...endpointsOf(ledgerBinding), ...gateways().map((gw) => `${gw}:${redisPort}`)];
    const fromOutside = await ask('intruder', `/probe?targets=${targets.join(',')}`);
    assert.deepEqual(Object.entries(fromOutside).filter(([, r]) => r === 'open'), [], JSON.stringify(fromOutside));
    // The counter is in the same space, bound to Redis only: Postgres stays closed to it.
    const fromNeighbour = await ask('counter', `/probe?targets=${endpointsOf(ledgerBinding).join(',')}`);
    assert.deepEqual(Object.entries(fromNeighbour).filter(([, r]) => r === 'open'), [], JSON.stringify(fromNeighbour));
    // And the ledger itself reaches it (the probe works).
    const fromLedger = await ask('ledger', `/probe?targets=${ledgerBinding.credentials.host}:${ledgerBinding.credentials.port}`);
    assert.deepEqual(Object.values(fromLedger), ['open']);
  });

  test('the rows and the count outlive a restart of the whole platform', async () => {
    await platform.restart();
    const ledger = await answers('ledger', '/', (b) => Array.isArray(b.notes), 'to answer with its notes again');
    assert.deepEqual(ledger.notes, ['first', 'second']);
    const counter = await answers('counter', '/', (b) => typeof b.count === 'number', 'to answer with its count again');
    assert.equal(counter.count, 2);
  });

  test('unbind-service refuses the old credentials at once', async () => {
    const { port, username, password, database } = ledgerBinding.credentials;
    const login = async () => {
      const client = new pg.Client({ host: '127.0.0.1', port: Number(port), user: username, password, database, connectionTimeoutMillis: 5_000 });
      try {
        await client.connect();
        return (await client.query('SELECT count(*)::int AS n FROM notes')).rows[0].n as number;
      } finally {
        await client.end().catch(() => undefined);
      }
    };
    assert.equal(await login(), 2, 'bound, the credentials work from the cell\'s host');
    await cli().ok(['unbind-service', 'ledger', 'ledger-db']);
    await assert.rejects(login, /password authentication failed|does not exist/);
    await answers('ledger', '/', (b) => b.error === 'no DATABASE_URL', 'to run without the database');
  });

  test('delete-service removes the server; while bound it is refused, naming the app', async () => {
    const refused = await cli().paas(['delete-service', 'cache', '-f']);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /counter/);
    await cli().ok(['delete-service', 'ledger-db', '-f']);
    assert.equal((await api(platform, 'GET', '/v1/service_instances/ledger-db')).status, 404);
    const gone = await pollUntil('the deleted server\'s port to close', async () => {
      const result = await tcpProbe('127.0.0.1', Number(ledgerBinding.credentials.port));
      return result === 'open' ? undefined : result;
    }, { timeoutMs: 30_000 });
    assert.notEqual(gone, 'open');
  });
});
