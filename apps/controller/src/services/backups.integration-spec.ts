/**
 * Backups and restores of managed service instances through the API, against the controller's
 * real Postgres and Redis and a service cell (testing/service-cell.ts) that runs each instance's
 * server for real: pg_dump, pg_restore and redis-cli run against those servers, the backups land
 * in the real blobstore and are fetched back through its internal endpoint. The schedule is
 * driven by calling the backups pass with a later `now` (time injected), as the leader would
 * after SERVICE_BACKUP_INTERVAL_S.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { serviceBackupViewSchema, serviceInstanceViewSchema } from '@paas/contracts';
import { pollUntil } from '@paas/local-services';
import { startControllerHarness, type ControllerHarness } from '../testing/controller-harness';
import { ServiceCell } from '../testing/service-cell';
import { PrismaService } from '../platform/database/prisma.service';
import { BlobstoreService } from '../storage/blobstore.service';
import { ServiceBackupsPass } from './service-backups-pass.service';
import { ServiceBackupsService } from './service-backups.service';
import { createOrg, createSpace, createUser, expectStatus, grant, type TestUser } from '../testing/tenancy-fixtures';

const INTERVAL_S = 3600;

describe('service backups and restores', () => {
  let h: ControllerHarness;
  let cell: ServiceCell | undefined;
  let space: string;
  let otherSpace: string;
  let viewer: TestUser;
  let outsider: TestUser;

  const instance = async (name: string, spaceId = space) => (await h.call('GET', `/v1/service_instances/${name}?space_id=${spaceId}`)).body;
  const settledOperation = (name: string, spaceId = space) =>
    pollUntil(`the operation of ${name} to end`, async () => {
      const view = await instance(name, spaceId);
      return view?.last_operation?.state !== 'in progress' ? view : undefined;
    }, { timeoutMs: 90_000 });
  const createInstance = async (name: string, offering: string, extra: Record<string, unknown> = {}, spaceId = space) => {
    expectStatus(await h.call('POST', '/v1/service_instances', { name, offering, plan: 'small', space_id: spaceId, ...extra }), 202, `create ${name}`);
    const done = await settledOperation(name, spaceId);
    assert.equal(done.last_operation.state, 'succeeded', JSON.stringify(done.last_operation));
    return done;
  };
  const backupDone = (name: string, id: string) =>
    pollUntil(`backup ${id} to finish`, async () => {
      const view = expectStatus(await h.call('GET', `/v1/service_instances/${name}/backups/${id}?space_id=${space}`), 200).body;
      return view.state !== 'in progress' ? view : undefined;
    }, { timeoutMs: 60_000 });
  const backup = async (name: string) => {
    const accepted = expectStatus(await h.call('POST', `/v1/service_instances/${name}/backups?space_id=${space}`), 202, `backup ${name}`).body;
    return backupDone(name, accepted.id);
  };
  const blob = async (id: string) => {
    const res = await fetch(`${h.url}/internal/v1/blobs/backups/${id}`, { headers: { 'x-paas-internal-token': h.internalToken } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };

  /** A session on the instance's database as its admin acting as the owner role, as a bound app's session does. */
  async function ownerSession(view: { id: string }): Promise<Client> {
    const job = cell!.startJobs.find((j) => j.serviceInstanceId === view.id)!;
    const hex = view.id.replace(/-/g, '');
    const client = new Client({ host: '127.0.0.1', port: cell!.servers.get(view.id)!.state.port, user: job.adminUser, password: job.adminPassword, database: `d_${hex}` });
    client.on('error', () => undefined);
    await client.connect();
    await client.query(`SET ROLE o_${hex}`);
    return client;
  }
  async function query<T>(view: { id: string }, sql: string): Promise<T[]> {
    const client = await ownerSession(view);
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  }
  const notes = (view: { id: string }) => query<{ body: string }>(view, 'SELECT body FROM notes ORDER BY body').then((rows) => rows.map((r) => r.body));

  before(async () => {
    h = await startControllerHarness({ SERVICE_BACKUP_INTERVAL_S: String(INTERVAL_S) });
    const org = await createOrg(h, 'bk-org');
    space = await createSpace(h, org, 'bk-space');
    otherSpace = await createSpace(h, org, 'bk-other');
    viewer = await createUser(h, 'bk-viewer');
    await grant(h, space, viewer, 'viewer');
    outsider = await createUser(h, 'bk-outsider');
    await grant(h, otherSpace, outsider, 'developer');
    cell = new ServiceCell('bk-cell', h, 8_192);
    await cell.start();
  });

  after(async () => {
    await h?.app.get(ServiceBackupsService).settled().catch(() => undefined);
    await cell?.stop();
    await h?.stop();
  });

  test('a postgres backup is a pg_dump in the blobstore with its size and sha256; a restore puts the backup\'s rows back', async () => {
    const db = await createInstance('db', 'postgresql');
    await query(db, 'CREATE TABLE notes (body text)');
    await query(db, "INSERT INTO notes VALUES ('one'), ('two')");
    const accepted = expectStatus(await h.call('POST', `/v1/service_instances/db/backups?space_id=${space}`), 202).body;
    assert.ok(serviceBackupViewSchema.safeParse(accepted).success, JSON.stringify(accepted));
    assert.equal(accepted.state, 'in progress');
    assert.equal(accepted.trigger, 'manual');
    assert.equal(accepted.format, 'pg_dump');
    const done = await backupDone('db', accepted.id);
    assert.equal(done.state, 'succeeded', done.error);
    assert.ok(done.size_bytes > 0 && done.duration_ms >= 0 && done.finished_at);
    const content = await blob(done.id);
    assert.equal(content.status, 200);
    assert.equal(content.body.length, done.size_bytes);
    assert.equal(createHash('sha256').update(content.body).digest('hex'), done.sha256);
    assert.equal(content.body.subarray(0, 5).toString(), 'PGDMP');
    assert.equal((await fetch(`${h.url}/internal/v1/blobs/backups/${done.id}`)).status, 401);

    await query(db, "INSERT INTO notes VALUES ('three')");
    await query(db, "DELETE FROM notes WHERE body = 'one'");
    const session = await ownerSession(db);
    const restoring = expectStatus(await h.call('POST', `/v1/service_instances/db/restores?space_id=${space}`, { backup_id: done.id }), 202).body;
    assert.ok(serviceInstanceViewSchema.safeParse(restoring).success);
    assert.deepEqual([restoring.last_operation.type, restoring.last_operation.state], ['restore', 'in progress']);
    assert.match(restoring.last_operation.description, new RegExp(`restoring backup ${done.id}`));
    expectStatus(await h.call('POST', `/v1/service_instances/db/restores?space_id=${space}`, { backup_id: done.id }), 409);
    expectStatus(await h.call('POST', `/v1/service_instances/db/backups?space_id=${space}`), 409);
    const restored = await settledOperation('db');
    assert.deepEqual([restored.last_operation.type, restored.last_operation.state], ['restore', 'succeeded'], restored.last_operation.description);
    assert.equal(restored.status, 'available');
    assert.deepEqual(await notes(db), ['one', 'two']);
    // The sessions to the database were ended before the restore.
    await assert.rejects(session.query('SELECT 1'));
    await session.end().catch(() => undefined);
    // Everything restored belongs to the owner role, as before.
    assert.deepEqual(await query(db, "SELECT tableowner FROM pg_tables WHERE tablename = 'notes'"), [{ tableowner: `o_${db.id.replace(/-/g, '')}` }]);
    const events = expectStatus(await h.call('GET', `/v1/events?target_id=${db.id}`), 200).body.resources.map((e: { type: string }) => e.type);
    for (const type of ['service-backup-started', 'service-backup-succeeded', 'service-instance-restore-requested', 'service-instance-restore-succeeded']) assert.ok(events.includes(type), `${type} in ${events.join(', ')}`);
  });

  test('a restore that fails leaves the data as it was and says why', async () => {
    const db = await instance('db');
    const [last] = expectStatus(await h.call('GET', `/v1/service_instances/db/backups?space_id=${space}`), 200).body.resources;
    // A view on the table the dump drops and makes again: DROP TABLE fails, and so the whole restore.
    await query(db, "INSERT INTO notes VALUES ('after')");
    await query(db, 'CREATE VIEW note_view AS SELECT body FROM notes');
    expectStatus(await h.call('POST', `/v1/service_instances/db/restores?space_id=${space}`, { backup_id: last.id }), 202);
    const failed = await settledOperation('db');
    assert.deepEqual([failed.last_operation.type, failed.last_operation.state], ['restore', 'failed']);
    assert.match(failed.last_operation.description, /pg_restore exited with code 1: .*note_view.*keeps its data as it was/s);
    assert.deepEqual(await notes(db), ['after', 'one', 'two']);
    await query(db, 'DROP VIEW note_view');
    const events = expectStatus(await h.call('GET', `/v1/events?target_id=${db.id}&types=service-instance-restore-failed`), 200).body.resources;
    assert.equal(events.length, 1);
  });

  test('a new instance created from a backup starts with its data', async () => {
    const [last] = expectStatus(await h.call('GET', `/v1/service_instances/db/backups?space_id=${space}`), 200).body.resources;
    const accepted = expectStatus(await h.call('POST', '/v1/service_instances', { name: 'db-copy', offering: 'postgresql', plan: 'small', space_id: space, restore_from_backup: last.id }), 202).body;
    assert.match(accepted.last_operation.description, /then restoring backup/);
    const copy = await settledOperation('db-copy');
    assert.equal(copy.last_operation.state, 'succeeded', copy.last_operation.description);
    assert.deepEqual(await notes(copy), ['one', 'two']);
    assert.deepEqual(await query(copy, "SELECT tableowner FROM pg_tables WHERE tablename = 'notes'"), [{ tableowner: `o_${copy.id.replace(/-/g, '')}` }]);
    // Refused: another offering (422), an unknown backup (404), another space's (422), a bad id (400).
    const refused = (body: Record<string, unknown>) => h.call('POST', '/v1/service_instances', { name: 'nope', plan: 'small', space_id: space, ...body });
    assert.match(expectStatus(await refused({ offering: 'redis', restore_from_backup: last.id }), 422).body.error.message, /postgresql instances only/);
    expectStatus(await refused({ offering: 'postgresql', restore_from_backup: '00000000-0000-4000-8000-000000000000' }), 404);
    expectStatus(await h.call('POST', '/v1/service_instances', { name: 'nope', offering: 'postgresql', plan: 'small', space_id: otherSpace, restore_from_backup: last.id }), 422);
    expectStatus(await refused({ offering: 'postgresql', restore_from_backup: 'x' }), 400);
    assert.equal((await h.call('GET', `/v1/service_instances/nope?space_id=${space}`)).status, 404);
  });

  test('a redis backup is an RDB snapshot of the server, taken over SYNC', async () => {
    const cache = await createInstance('cache', 'redis');
    const job = cell!.startJobs.find((j) => j.serviceInstanceId === cache.id)!;
    const redis = new Redis({ host: '127.0.0.1', port: cell!.servers.get(cache.id)!.state.port, username: job.adminUser, password: job.adminPassword, maxRetriesPerRequest: 0 });
    try {
      await redis.set('greeting', 'hello-from-the-backup');
    } finally {
      redis.disconnect();
    }
    const done = await backup('cache');
    assert.equal(done.state, 'succeeded', done.error);
    assert.equal(done.format, 'rdb');
    const content = await blob(done.id);
    assert.equal(content.body.subarray(0, 5).toString(), 'REDIS');
    // It ends as an RDB file does: the EOF opcode and its CRC64, nothing after (no replication EOF mark).
    assert.equal(content.body[content.body.length - 9], 0xff);
    assert.ok(content.body.includes(Buffer.from('hello-from-the-backup')));
    assert.equal(createHash('sha256').update(content.body).digest('hex'), done.sha256);
  });

  test('a redis restore is the cell\'s restore-service job: the snapshot\'s keys come back; a damaged backup fails and changes nothing', async () => {
    const cache = await instance('cache');
    const job = cell!.startJobs.find((j) => j.serviceInstanceId === cache.id)!;
    const connect = () => new Redis({ host: '127.0.0.1', port: cell!.servers.get(cache.id)!.state.port, username: job.adminUser, password: job.adminPassword, maxRetriesPerRequest: 0 });
    const [snapshot] = expectStatus(await h.call('GET', `/v1/service_instances/cache/backups?space_id=${space}`), 200).body.resources;
    let redis = connect();
    await redis.set('greeting', 'changed-since');
    await redis.set('later', 'x');
    redis.disconnect();
    const restoring = expectStatus(await h.call('POST', `/v1/service_instances/cache/restores?space_id=${space}`, { backup_id: snapshot.id }), 202).body;
    assert.equal(restoring.last_operation.type, 'restore');
    const restored = await settledOperation('cache');
    assert.deepEqual([restored.last_operation.type, restored.last_operation.state], ['restore', 'succeeded'], restored.last_operation.description);
    redis = connect();
    try {
      assert.equal(await redis.get('greeting'), 'hello-from-the-backup');
      assert.equal(await redis.get('later'), null);
      await redis.set('after-restore', 'y');
    } finally {
      redis.disconnect();
    }
    // A backup whose content no longer matches its sha256: the cell refuses it, the data stays.
    const path = join(h.app.get(BlobstoreService).path('backups', snapshot.id));
    const original = await readFile(path);
    await writeFile(path, Buffer.concat([original.subarray(0, original.length - 1), Buffer.from([original[original.length - 1]! ^ 0xff])]));
    expectStatus(await h.call('POST', `/v1/service_instances/cache/restores?space_id=${space}`, { backup_id: snapshot.id }), 202);
    const failed = await settledOperation('cache');
    await writeFile(path, original);
    assert.deepEqual([failed.last_operation.type, failed.last_operation.state], ['restore', 'failed']);
    assert.match(failed.last_operation.description, /cell bk-cell could not restore it: the backup .* does not match its size and sha256/);
    redis = connect();
    try {
      assert.equal(await redis.get('after-restore'), 'y');
    } finally {
      redis.disconnect();
    }
    // A new redis instance from the snapshot: created once its cell restored it.
    const copy = await createInstance('cache-copy', 'redis', { restore_from_backup: snapshot.id });
    const copyJob = cell!.startJobs.find((j) => j.serviceInstanceId === copy.id)!;
    const copied = new Redis({ host: '127.0.0.1', port: cell!.servers.get(copy.id)!.state.port, username: copyJob.adminUser, password: copyJob.adminPassword, maxRetriesPerRequest: 0 });
    try {
      assert.equal(await copied.get('greeting'), 'hello-from-the-backup');
    } finally {
      copied.disconnect();
    }
  });

  test('backups one at a time (409), deleted when finished (204), a failed one is an event with its reason', async () => {
    const db = await instance('db');
    const prisma = h.app.get(PrismaService);
    const running = await prisma.serviceBackup.create({ data: { serviceInstanceId: db.id, trigger: 'manual', state: 'in progress', format: 'pg_dump' } });
    assert.match(expectStatus(await h.call('POST', `/v1/service_instances/db/backups?space_id=${space}`), 409).body.error.message, /in progress already/);
    assert.match(expectStatus(await h.call('DELETE', `/v1/service_instances/db/backups/${running.id}?space_id=${space}`), 409).body.error.message, /in progress/);
    await prisma.serviceBackup.delete({ where: { id: running.id } });
    // Larger than the plan's disk: the dump is stopped and the backup fails.
    await prisma.serviceInstance.update({ where: { id: db.id }, data: { diskMb: 0 } });
    const failed = await backup('db');
    await prisma.serviceInstance.update({ where: { id: db.id }, data: { diskMb: 1024 } });
    assert.equal(failed.state, 'failed');
    assert.match(failed.error, /larger than 0 MB \(the plan's disk\)/);
    assert.equal((await blob(failed.id)).status, 404);
    const event = expectStatus(await h.call('GET', `/v1/events?target_id=${db.id}&types=service-backup-failed`), 200).body.resources[0];
    assert.equal(event.data.backup_id, failed.id);
    expectStatus(await h.call('POST', `/v1/service_instances/db/restores?space_id=${space}`, { backup_id: failed.id }), 409);
    expectStatus(await h.call('DELETE', `/v1/service_instances/db/backups/${failed.id}?space_id=${space}`), 204);
    expectStatus(await h.call('GET', `/v1/service_instances/db/backups/${failed.id}?space_id=${space}`), 404);
    const listed = expectStatus(await h.call('GET', `/v1/service_instances/db/backups?space_id=${space}`), 200).body.resources;
    const times = listed.map((b: { created_at: string }) => b.created_at);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
  });

  test('the schedule makes a backup per interval; retention keeps the newest scheduled ones, manual ones stay', async () => {
    const db = await instance('db');
    const prisma = h.app.get(PrismaService);
    await prisma.serviceInstance.update({ where: { id: db.id }, data: { backupRetention: 2 } });
    const pass = h.app.get(ServiceBackupsPass);
    const making = h.app.get(ServiceBackupsService);
    const manual = (await prisma.serviceBackup.findMany({ where: { serviceInstanceId: db.id, trigger: 'manual' } })).map((b) => b.id).sort();
    const scheduled: string[] = [];
    for (let i = 1; i <= 3; i++) {
      await pass.pass(Date.now() + INTERVAL_S * 1000 + 1000);
      await making.settled();
      const mine = await prisma.serviceBackup.findMany({ where: { serviceInstanceId: db.id, trigger: 'scheduled' }, orderBy: { createdAt: 'desc' } });
      assert.equal(mine[0]?.state, 'succeeded', mine[0]?.error ?? 'a scheduled backup');
      if (!scheduled.includes(mine[0]!.id)) scheduled.push(mine[0]!.id);
      // Not due again within the interval.
      await pass.pass(Date.now());
      assert.equal(await prisma.serviceBackup.count({ where: { serviceInstanceId: db.id, state: 'in progress' } }), 0);
    }
    assert.equal(scheduled.length, 3);
    await pass.pass(Date.now());
    const left = await prisma.serviceBackup.findMany({ where: { serviceInstanceId: db.id } });
    assert.deepEqual(left.filter((b) => b.trigger === 'scheduled').map((b) => b.id).sort(), scheduled.slice(1).sort());
    assert.deepEqual(left.filter((b) => b.trigger === 'manual').map((b) => b.id).sort(), manual);
    assert.equal((await blob(scheduled[0]!)).status, 404, 'the pruned backup\'s blob is gone');
    assert.equal((await blob(scheduled[2]!)).status, 200);
  });

  test('a backup left in progress by a controller that stopped is marked failed by the pass', async () => {
    const cache = await instance('cache');
    const prisma = h.app.get(PrismaService);
    const stale = await prisma.serviceBackup.create({ data: { serviceInstanceId: cache.id, trigger: 'manual', state: 'in progress', format: 'rdb', createdAt: new Date(Date.now() - 25 * 60_000) } });
    await h.app.get(ServiceBackupsPass).pass(Date.now());
    const view = expectStatus(await h.call('GET', `/v1/service_instances/cache/backups/${stale.id}?space_id=${space}`), 200).body;
    assert.equal(view.state, 'failed');
    assert.match(view.error, /its controller stopped before it finished/);
  });

  test('access: viewers list and read backups but may not make or restore them; other spaces see nothing', async () => {
    const [last] = expectStatus(await h.call('GET', `/v1/service_instances/db/backups?space_id=${space}`, undefined, viewer.token), 200).body.resources;
    expectStatus(await h.call('GET', `/v1/service_instances/db/backups/${last.id}?space_id=${space}`, undefined, viewer.token), 200);
    expectStatus(await h.call('POST', `/v1/service_instances/db/backups?space_id=${space}`, undefined, viewer.token), 403);
    expectStatus(await h.call('POST', `/v1/service_instances/db/restores?space_id=${space}`, { backup_id: last.id }, viewer.token), 403);
    expectStatus(await h.call('GET', `/v1/service_instances/${last.service_instance_id}/backups`, undefined, outsider.token), 404);
    // Another space's developer may not restore a backup it cannot read into its own instance.
    const theirs = await createInstance('theirs', 'postgresql', {}, otherSpace);
    expectStatus(await h.call('POST', `/v1/service_instances/${theirs.id}/restores`, { backup_id: last.id }, outsider.token), 404);
    // A backup of another offering: 422; a body without backup_id: 400.
    const [rdb] = expectStatus(await h.call('GET', `/v1/service_instances/cache/backups?space_id=${space}`), 200).body.resources.filter((b: { state: string }) => b.state === 'succeeded');
    assert.match(expectStatus(await h.call('POST', `/v1/service_instances/db/restores?space_id=${space}`, { backup_id: rdb.id }), 422).body.error.message, /redis instances only/);
    expectStatus(await h.call('POST', `/v1/service_instances/db/restores?space_id=${space}`, {}), 400);
  });

  test('deleting an instance removes its backups and their blobs', async () => {
    const copy = await instance('db-copy');
    const done = await backup('db-copy');
    assert.equal(done.state, 'succeeded');
    assert.equal((await blob(done.id)).status, 200);
    expectStatus(await h.call('DELETE', `/v1/service_instances/${copy.id}`), 202);
    await pollUntil('db-copy to be gone', async () => (await h.call('GET', `/v1/service_instances/${copy.id}`)).status === 404);
    assert.equal(await h.app.get(PrismaService).serviceBackup.count({ where: { id: done.id } }), 0);
    // The pass sweeps blobs whose rows went (every minute: `now` a minute later).
    await h.app.get(ServiceBackupsPass).pass(Date.now() + 61_000);
    assert.equal((await blob(done.id)).status, 404);
  });
});
