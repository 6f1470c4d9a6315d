/**
 * Issue 15, backups and restore, as a user meets them: an app that keeps notes in Postgres through
 * DATABASE_URL (pg, staged from the fixture registry) on a real server in a runc container;
 * `paas backup`, more writes, `paas restore`, and the app reads the backup's rows; `paas
 * create-service ... --from-backup` makes a new instance with them; the schedule (a short
 * SERVICE_BACKUP_INTERVAL_S) makes backups by itself and keeps the newest `backup_retention`;
 * a Redis instance is backed up as an RDB snapshot and restored by its cell (restore-service).
 *
 * backup_retention is set in the platform's database: PATCH of it is another part of issue 15
 * (svc-update); 0 keeps the schedule off the instances the manual steps use, so that no
 * scheduled backup runs into them (a backup or restore while another runs is a 409).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { NpmRegistryFixture } from '@paas/testing';
import { commitDir, git, startIsolatedPlatformWithRegistry, stopIsolatedPlatformWithRegistry, writeExpressApp, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';
import { adminCli, api, viaRouter } from './test-platform';

/** Notes in Postgres through DATABASE_URL: /add?text= inserts, / lists. Survives its sessions being ended (a restore does). */
const NOTES_SERVER = `
const http = require('http');
const { Pool } = require('pg');
const pool = process.env.DATABASE_URL ? new Pool({ connectionString: process.env.DATABASE_URL, max: 2 }) : undefined;
if (pool) pool.on('error', () => undefined);
async function handle(url) {
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

const INTERVAL_S = 6;

describe('backups and restore of service instances', () => {
  let platform: TestPlatform;
  let registries: NpmRegistryFixture[] = [];
  let work: string;
  let space: string;
  let backupId: string;
  const cli = () => adminCli(platform, work);
  const host = (name: string) => `${name}.${platform.appsDomain}`;

  /** Polls the app until `check` accepts its answer (a release rolling, sessions ended by a restore). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the app's JSON answers
  async function answers(name: string, path: string, check: (body: any) => boolean, what: string): Promise<any> {
    return pollUntil(`${name}${path} ${what}`, async () => {
      const r = await viaRouter(platform, host(name), path).catch(() => undefined);
      if (r?.status !== 200) return undefined;
      const body = JSON.parse(r.text);
      return check(body) ? body : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
  }
  const notes = (name: string, expected: string[], what: string) => answers(name, '/', (b) => JSON.stringify(b.notes) === JSON.stringify(expected), what);

  async function setRetention(name: string, retention: number): Promise<void> {
    const client = new pg.Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      const { rowCount } = await client.query('UPDATE service_instances SET backup_retention = $1 WHERE name = $2 AND space_id = $3', [retention, name, space]);
      assert.equal(rowCount, 1, `instance ${name}`);
    } finally {
      await client.end();
    }
  }

  /** create-service without waiting, its retention set while the cell still starts the server, then waited for. */
  async function createService(offering: string, name: string, retention: number, extra: string[] = []): Promise<void> {
    await cli().ok(['create-service', offering, 'small', name, '--space', space, '--no-wait', ...extra]);
    await setRetention(name, retention);
    const done = await pollUntil(`${name} to be created`, async () => {
      const view = (await api(platform, 'GET', `/v1/service_instances/${name}?space_id=${space}`)).json;
      return view.last_operation.state !== 'in progress' ? view : undefined;
    }, { timeoutMs: 180_000 });
    assert.equal(done.last_operation.state, 'succeeded', JSON.stringify(done.last_operation));
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-backups-'));
    ({ platform, registries } = await startIsolatedPlatformWithRegistry(2, ['pg'], { controllerEnv: { SERVICE_BACKUP_INTERVAL_S: String(INTERVAL_S) } }));
    const org = (await api(platform, 'POST', '/v1/orgs', { name: 'acme' })).json.id;
    space = (await api(platform, 'POST', '/v1/spaces', { name: 'shop', org_id: org })).json.id;
    await cli().ok(['target', '-o', 'acme', '-s', 'shop']);
  });

  after(async () => {
    try {
      assert.deepEqual(await stopIsolatedPlatformWithRegistry(platform, registries), [], 'the platform leaves no bridge, veth, netns or iptables rule behind');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  test('a backup, more writes, a restore: the app reads the rows of the backup', async () => {
    await createService('postgresql', 'notes-db', 0);
    const created = await api(platform, 'POST', '/v1/apps', { name: 'notes', space_id: space });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const dir = join(work, 'notes');
    const pkg = { name: 'notes', version: '1.0.0', engines: { node: '24.x' }, scripts: { start: 'node server.js' }, dependencies: { pg: '^8.0.0' } };
    await writeExpressApp(dir, pkg, { registry: registries[0]!.url, npmCache: join(work, 'npm-cache'), server: NOTES_SERVER });
    await commitDir(dir);
    const pushed = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/notes.git`, 'main'], dir);
    assert.equal(pushed.code, 0, pushed.output);
    await cli().ok(['bind-service', 'notes', 'notes-db']);
    await answers('notes', '/', (b) => Array.isArray(b.notes), 'to reach its database');
    await answers('notes', '/add?text=first', (b) => b.notes?.includes('first'), 'to add first');
    await answers('notes', '/add?text=second', (b) => b.notes?.includes('second'), 'to add second');

    const out = await cli().ok(['backup', 'notes-db']);
    const made = /^backed up service notes-db: backup ([0-9a-f-]{36}), /m.exec(out);
    assert.ok(made, out);
    backupId = made[1]!;
    const listed = await cli().ok(['backups', 'notes-db']);
    assert.match(listed, new RegExp(`^${backupId}\\s+manual\\s+succeeded\\s+\\S+`, 'm'));

    await answers('notes', '/add?text=third', (b) => b.notes?.includes('third'), 'to add third');
    const restored = await cli().paas(['restore', 'notes-db', backupId]);
    assert.equal(restored.code, 0, `${restored.stdout}\n${restored.stderr}`);
    assert.match(restored.stdout, new RegExp(`restored backup ${backupId} into service notes-db`));
    await notes('notes', ['first', 'second'], 'to read the rows of the backup');
    // The serial goes on from the backup's: a new row comes after them.
    await notes('notes', ['first', 'second'], 'again');
    await answers('notes', '/add?text=after-restore', (b) => JSON.stringify(b.notes) === JSON.stringify(['first', 'second', 'after-restore']), 'to write after the restore');
    const instance = (await api(platform, 'GET', `/v1/service_instances/notes-db?space_id=${space}`)).json;
    assert.deepEqual([instance.last_operation.type, instance.last_operation.state], ['restore', 'succeeded']);
    const events = (await api(platform, 'GET', `/v1/events?target_id=${instance.id}`)).json.resources.map((e: { type: string }) => e.type);
    assert.ok(events.includes('service-instance-restore-succeeded'), events.join(', '));
  });

  test('a restore of a backup of another offering is refused, and the CLI exits 1 saying why', async () => {
    await createService('redis', 'cache', 0);
    const refused = await cli().paas(['restore', 'cache', backupId]);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /postgresql instances only/);
  });

  test('a Redis instance is backed up as an RDB snapshot', async () => {
    const out = await cli().ok(['backup', 'cache']);
    assert.match(out, /^backed up service cache: backup [0-9a-f-]{36}, /m);
    const [backup] = (await api(platform, 'GET', `/v1/service_instances/cache/backups?space_id=${space}`)).json.resources;
    assert.equal(backup.format, 'rdb');
    assert.equal(backup.state, 'succeeded');
    assert.ok(backup.size_bytes > 0);
  });

  test('a Redis restore puts the snapshot\'s keys back (the cell\'s restore-service job)', async () => {
    // The instance's admin login, as the controller keeps it: the test reads and writes keys with it from the host.
    const client = new pg.Client({ connectionString: platform.databaseUrl });
    await client.connect();
    const { rows } = await client.query('SELECT host, port, admin_user, admin_password FROM service_instances WHERE name = $1 AND space_id = $2', ['cache', space]);
    await client.end();
    const { host: redisHost, port, admin_user: username, admin_password: password } = rows[0];
    const redis = () => {
      const r = new Redis({ host: redisHost, port, username, password, maxRetriesPerRequest: 1, retryStrategy: () => null });
      r.on('error', () => undefined);
      return r;
    };
    let r = redis();
    await r.set('visits', '41');
    r.disconnect();
    const out = await cli().ok(['backup', 'cache']);
    const snapshot = /backup ([0-9a-f-]{36}),/.exec(out)![1]!;
    r = redis();
    await r.set('visits', '99');
    await r.set('later', 'x');
    r.disconnect();
    const restored = await cli().paas(['restore', 'cache', snapshot]);
    assert.equal(restored.code, 0, `${restored.stdout}\n${restored.stderr}`);
    const values = await pollUntil('the restored server to answer', async () => {
      const c = redis();
      try {
        return [await c.get('visits'), await c.get('later')];
      } catch {
        return undefined;
      } finally {
        c.disconnect();
      }
    }, { timeoutMs: 30_000 });
    assert.deepEqual(values, ['41', null]);
  });

  test('create-service --from-backup makes a new instance with the backup\'s rows', async () => {
    await createService('postgresql', 'notes-copy', 0, ['--from-backup', backupId]);
    // Read as the instance's admin from the host (the login the controller keeps), in its database.
    const client = new pg.Client({ connectionString: platform.databaseUrl });
    await client.connect();
    const { rows } = await client.query('SELECT id, host, port, admin_user, admin_password FROM service_instances WHERE name = $1 AND space_id = $2', ['notes-copy', space]);
    await client.end();
    const copy = rows[0];
    const admin = new pg.Client({ host: copy.host, port: copy.port, user: copy.admin_user, password: copy.admin_password, database: `d_${String(copy.id).replace(/-/g, '')}` });
    await admin.connect();
    try {
      assert.deepEqual((await admin.query('SELECT text FROM notes ORDER BY id')).rows.map((r) => r.text), ['first', 'second']);
      assert.deepEqual((await admin.query("SELECT tableowner FROM pg_tables WHERE tablename = 'notes'")).rows, [{ tableowner: `o_${String(copy.id).replace(/-/g, '')}` }]);
    } finally {
      await admin.end();
    }
  });

  test('the schedule makes backups by itself and keeps the newest backup_retention of them', async () => {
    await createService('postgresql', 'sched-db', 2);
    const instance = (await api(platform, 'GET', `/v1/service_instances/sched-db?space_id=${space}`)).json;
    const succeeded = () => api(platform, 'GET', `/v1/events?target_id=${instance.id}&types=service-backup-succeeded`).then((r) => r.json.resources.length as number);
    await pollUntil('three scheduled backups of sched-db', async () => (await succeeded()) >= 3, { timeoutMs: 120_000, intervalMs: 1_000 });
    const kept = await pollUntil('retention to keep two', async () => {
      const backups = (await api(platform, 'GET', `/v1/service_instances/sched-db/backups?space_id=${space}`)).json.resources;
      const done = backups.filter((b: { state: string }) => b.state !== 'in progress');
      return done.length === 2 ? done : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    for (const b of kept) assert.deepEqual([b.trigger, b.state], ['scheduled', 'succeeded']);
    assert.ok((await succeeded()) >= 3);
    // Instances with retention 0 got no scheduled backup.
    const notesBackups = (await api(platform, 'GET', `/v1/service_instances/notes-db/backups?space_id=${space}`)).json.resources;
    assert.deepEqual(notesBackups.map((b: { trigger: string }) => b.trigger), ['manual']);
  });
});
