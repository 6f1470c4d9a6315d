import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MeterStream, pgDumpRun, pgRestoreRun, redisRdbRun, runChild, type ChildRun } from './backup-processes';

const node = (script: string, timeoutMs = 10_000): ChildRun => ({ what: 'the child', cmd: process.execPath, args: ['-e', script], env: { PATH: process.env.PATH ?? '' }, timeoutMs });
const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });
const login = { host: '127.0.0.1', port: 5999, user: 'paas_admin', password: 'Secret0123456789Secret' };
const ID = '0b7c4f2e-1d2a-4c3b-9e8f-a1b2c3d4e5f6';

test('runChild streams stdout through the meter: size and sha256 of what the child wrote', async () => {
  const meter = new MeterStream(1_000_000, 'the backup');
  await runChild(node("process.stdout.write('x'.repeat(70000))"), (out) => pipeline(out, meter, sink()));
  assert.equal(meter.bytes, 70_000);
  assert.equal(meter.sha256(), createHash('sha256').update('x'.repeat(70_000)).digest('hex'));
});

test('a child that exits non-zero fails naming it, its code and its last stderr lines', async () => {
  await assert.rejects(runChild(node("console.error('pg_dump: error: connection refused'); process.exit(1)")), /^Error: the child exited with code 1: pg_dump: error: connection refused$/);
});

test('output past the bound kills the child and fails with the bound', async () => {
  const meter = new MeterStream(1024, 'the backup');
  const started = Date.now();
  await assert.rejects(runChild(node("setInterval(() => process.stdout.write('y'.repeat(4096)), 5)"), (out) => pipeline(out, meter, sink())), /the backup is larger than 0 MB/);
  assert.ok(Date.now() - started < 10_000);
});

test('a child past its timeout is killed and fails saying so', async () => {
  await assert.rejects(runChild(node('setInterval(() => {}, 1000)', 300)), /the child did not finish within 0 s: stopped/);
});

test('a program that is not there fails naming it', async () => {
  await assert.rejects(runChild({ ...node(''), cmd: '/nonexistent/pg_dump' }), /could not be started \(\/nonexistent\/pg_dump\)/);
});

test('the admin password goes in the env, never in argv; identifiers are ours', () => {
  for (const run of [pgDumpRun(login, ID, 1000), pgRestoreRun(login, ID, '/blobs/backups/x', 1000), redisRdbRun(login, '/blobs/backups/x.rdb.tmp', 1000)]) {
    assert.ok(!run.args.some((a) => a.includes(login.password)), run.args.join(' '));
    assert.ok(Object.values(run.env).includes(login.password));
    assert.equal(run.env.DATABASE_URL, undefined);
  }
  const dump = pgDumpRun(login, ID, 1000);
  for (const flag of ['-Fc', '--no-owner', '--no-privileges', '-w']) assert.ok(dump.args.includes(flag), flag);
  for (const flag of ['--clean', '--if-exists', '--single-transaction', '--exit-on-error']) assert.ok(pgRestoreRun(login, ID, '/f', 1000).args.includes(flag), flag);
  assert.ok(dump.args.includes('d_0b7c4f2e1d2a4c3b9e8fa1b2c3d4e5f6'));
  assert.ok(pgRestoreRun(login, ID, '/f', 1000).args.includes('--role=o_0b7c4f2e1d2a4c3b9e8fa1b2c3d4e5f6'));
  assert.throws(() => pgDumpRun(login, 'x; DROP', 1000), /not a UUID/);
});
