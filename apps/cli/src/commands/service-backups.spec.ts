/**
 * The backup commands, run as the real `paas` binary against a fake backups API on 127.0.0.1
 * (testing/fake-backups-api.ts): listing backups, making one (followed to its end), restoring one
 * (followed to succeeded or failed, exit 1 then), creating an instance from a backup, and the
 * requests they send.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { serviceBackupViewSchema } from '@paas/contracts';
import { FakeBackupsApi } from '../testing/fake-backups-api';
import { paas as runPaas, type FakeServicesApi } from '../testing/fake-services-api';
import { formatMs } from './service-backups';

let api: FakeBackupsApi;
before(async () => {
  api = await new FakeBackupsApi().start();
});
after(() => api.stop());
beforeEach(() => {
  api.instances.clear();
  api.backups.length = 0;
  api.requests.length = 0;
  api.pollsToEnd = 2;
});

const paas = (args: string[]) => runPaas({ url: api.url } as FakeServicesApi, args);
const said = (r: { stdout: string; stderr: string }) => `stdout: ${r.stdout}\nstderr: ${r.stderr}`;

test('backups lists them newest first with trigger, state, size, duration and the error of a failed one; --json as the API answers', async () => {
  const db = api.seed('db');
  const old = api.seedBackup(db);
  const failed = api.seedBackup(db, { trigger: 'manual', state: 'failed', size_bytes: null, sha256: null, duration_ms: 300, error: 'pg_dump exited with code 1: connection refused' });
  const r = await paas(['backups', 'db']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^id\s+trigger\s+state\s+size\s+created\s+duration\s+error$/m);
  const lines = r.stdout.trim().split('\n').slice(1);
  assert.match(lines[0]!, new RegExp(`^${failed.id}\\s+manual\\s+failed\\s+-\\s+.*ago\\s+300ms\\s+pg_dump exited with code 1: connection refused$`));
  assert.match(lines[1]!, new RegExp(`^${old.id}\\s+scheduled\\s+succeeded\\s+2\\.3M\\s+.*ago\\s+1\\.2s\\s*$`));
  assert.match(r.stderr, /paas restore db BACKUP_ID/);
  const json = await paas(['backups', 'db', '--json']);
  assert.deepEqual(z.array(serviceBackupViewSchema).parse(JSON.parse(json.stdout)).map((b) => b.id), [failed.id, old.id]);
  const none = await paas(['backups', api.seed('empty').name]);
  assert.match(none.stdout, /service empty has no backups yet: paas backup empty makes one/);
  const missing = await paas(['backups', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no service nope/);
});

test('backup waits until the backup is done and says its id, size and duration; --no-wait returns at once', async () => {
  const db = api.seed('db');
  api.pollsToEnd = 3;
  const r = await paas(['backup', 'db']);
  assert.equal(r.code, 0, said(r));
  const [made] = api.backups;
  assert.equal(made!.state, 'succeeded');
  assert.match(r.stdout, new RegExp(`^backed up service db: backup ${made!.id}, 5\\.1M in 2\\.5s$`, 'm'));
  assert.match(r.stderr, new RegExp(`paas restore db ${made!.id}`));
  assert.equal(api.requests.filter((q) => q.method === 'GET' && q.path === `/v1/service_instances/${db.id}/backups/${made!.id}`).length, 3, 'polled until it ended');
  const quick = await paas(['backup', 'db', '--no-wait']);
  assert.equal(quick.code, 0, said(quick));
  assert.match(quick.stdout, /backing up service db: backup .*; paas backups db shows when it is done/);
  const busy = await paas(['backup', 'db']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /in progress already/);
});

test('backup exits 1 with the reason when the backup failed', async () => {
  api.seed('broken-db');
  const r = await paas(['backup', 'broken-db']);
  assert.equal(r.code, 1, said(r));
  assert.match(r.stderr, /error: backing up service broken-db: backup .* failed: pg_dump exited with code 1: connection refused/);
});

test('restore follows the restore to its end; a failed one exits 1 saying why', async () => {
  const db = api.seed('db');
  const backup = api.seedBackup(db);
  api.pollsToEnd = 3;
  const r = await paas(['restore', 'db', backup.id]);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, new RegExp(`^restored backup ${backup.id} into service db$`, 'm'));
  assert.deepEqual(api.requests.find((q) => q.method === 'POST')?.body, { backup_id: backup.id });
  assert.equal(api.requests.filter((q) => q.method === 'GET' && q.path === `/v1/service_instances/${db.id}`).length, 3);
  const bad = api.seedBackup(api.seed('broken-source'));
  const failed = await paas(['restore', 'db', bad.id]);
  assert.equal(failed.code, 1, said(failed));
  assert.match(failed.stderr, /error: restoring service db: it failed: restoring backup .* failed: pg_restore exited with code 1: relation "notes" already exists; the instance keeps its data as it was/);
  const unknown = await paas(['restore', 'db', '00000000-0000-4000-8000-999999999999']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no backup/);
});

test('create-service --from-backup sends the backup and waits for the create (and so the restore) to succeed', async () => {
  const backup = api.seedBackup(api.seed('db'));
  const r = await paas(['create-service', 'postgresql', 'small', 'db-copy', '--from-backup', backup.id]);
  assert.equal(r.code, 0, said(r));
  assert.deepEqual(api.requests.find((q) => q.method === 'POST')?.body, { name: 'db-copy', offering: 'postgresql', plan: 'small', restore_from_backup: backup.id });
  assert.match(r.stdout, /^created service db-copy/m);
});

test('delete-backup deletes it', async () => {
  const db = api.seed('db');
  const backup = api.seedBackup(db);
  const r = await paas(['delete-backup', 'db', backup.id]);
  assert.equal(r.code, 0, said(r));
  assert.equal(api.backups.length, 0);
});

test('formatMs: short durations', () => {
  assert.deepEqual([formatMs(null), formatMs(850), formatMs(4200), formatMs(190_000)], ['-', '850ms', '4.2s', '3m10s']);
});
