import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { putBack, putSnapshotInPlace, RESTORE_MANIFEST, settleInterruptedRestore, verifySnapshot } from './redis-restore';

const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const snapshotBytes = Buffer.concat([Buffer.from('REDIS0011'), Buffer.alloc(3000, 7)]);

describe('redis restore files', () => {
  let tmp: string;
  let snapshot: string;
  let n = 0;
  /** A /data as a tenant's server may leave it: its AOF folder, a dump.rdb, and `extra`. */
  const dataDir = async (extra: (dir: string) => Promise<void> = async () => undefined): Promise<string> => {
    const dir = join(tmp, `data-${n++}`);
    await mkdir(join(dir, 'appendonlydir'), { recursive: true });
    await writeFile(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof'), 'old');
    await writeFile(join(dir, 'users.acl'), 'user default off\n');
    await extra(dir);
    return dir;
  };
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-redis-restore-'));
    snapshot = join(tmp, 'snapshot.rdb');
    await writeFile(snapshot, snapshotBytes);
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  it('refuses a download of the wrong size, sha256 or format, naming both values', async () => {
    const sha = createHash('sha256').update(snapshotBytes).digest('hex');
    await verifySnapshot(snapshot, snapshotBytes.length, sha);
    await assert.rejects(verifySnapshot(snapshot, 10, sha), new RegExp(`has ${snapshotBytes.length} bytes where the backup has 10`));
    await assert.rejects(verifySnapshot(snapshot, snapshotBytes.length, '0'.repeat(64)), new RegExp(`has sha256 ${sha} where the backup has 0{64}`));
    const notRdb = join(tmp, 'not.rdb');
    await writeFile(notRdb, 'hello');
    await assert.rejects(verifySnapshot(notRdb, 5, createHash('sha256').update('hello').digest('hex')), /is not an RDB snapshot/);
  });

  it('puts the snapshot in place as the base of a fresh appendonlydir and keeps the old data aside until told', async () => {
    const dir = await dataDir((d) => writeFile(join(d, 'dump.rdb'), 'old dump'));
    const aside = await putSnapshotInPlace(dir, snapshot, owner);
    assert.deepEqual((await readdir(join(dir, 'appendonlydir'))).sort(), ['appendonly.aof.1.base.rdb', 'appendonly.aof.manifest']);
    assert.deepEqual(await readFile(join(dir, 'appendonlydir', 'appendonly.aof.1.base.rdb')), snapshotBytes);
    assert.equal(await readFile(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8'), RESTORE_MANIFEST);
    assert.equal((await stat(join(dir, 'appendonlydir', 'appendonly.aof.1.base.rdb'))).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(aside)).sort(), ['appendonlydir', 'dump.rdb']);
    assert.equal(await readFile(join(dir, 'users.acl'), 'utf8'), 'user default off\n', 'the users stay');
    // The server did not run on it: the old data comes back, nothing of the restore stays.
    await putBack(dir, aside);
    assert.deepEqual(await readdir(join(dir, 'appendonlydir')), ['appendonly.aof.1.incr.aof']);
    assert.equal(await readFile(join(dir, 'dump.rdb'), 'utf8'), 'old dump');
    assert.deepEqual((await readdir(dir)).sort(), ['appendonlydir', 'dump.rdb', 'users.acl']);
  });

  it('moves links a tenant planted instead of following them: their targets are untouched', async () => {
    const outside = join(tmp, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'precious'), 'root file');
    const dir = join(tmp, `data-${n++}`);
    await mkdir(dir);
    await symlink(outside, join(dir, 'appendonlydir'));
    await symlink(join(outside, 'precious'), join(dir, 'dump.rdb'));
    const aside = await putSnapshotInPlace(dir, snapshot, owner);
    assert.equal((await lstat(join(dir, 'appendonlydir'))).isDirectory(), true, 'a real folder now');
    assert.equal(await readlink(join(aside, 'appendonlydir')), outside);
    assert.deepEqual(await readdir(outside), ['precious']);
    assert.equal(await readFile(join(outside, 'precious'), 'utf8'), 'root file');
    assert.equal((await lstat(join(dir, 'dump.rdb')).catch(() => undefined)), undefined);
  });

  it('settles a restore cut short: the old data back when no appendonlydir is in place; a restored one is kept', async () => {
    const dir = await dataDir();
    await mkdir(join(dir, '.restore-old-abc'));
    await mkdir(join(dir, '.restore-new-def'));
    await rename(join(dir, 'appendonlydir'), join(dir, '.restore-old-abc', 'appendonlydir'));
    assert.deepEqual(await settleInterruptedRestore(dir), ['removed .restore-new-def', 'moved the data of .restore-old-abc back']);
    assert.deepEqual((await readdir(dir)).sort(), ['appendonlydir', 'users.acl']);
    assert.deepEqual(await readdir(join(dir, 'appendonlydir')), ['appendonly.aof.1.incr.aof']);
    const restored = await dataDir();
    await mkdir(join(restored, '.restore-old-ghi', 'appendonlydir'), { recursive: true });
    assert.deepEqual(await settleInterruptedRestore(restored), []);
    assert.deepEqual((await readdir(restored)).sort(), ['.restore-old-ghi', 'appendonlydir', 'users.acl']);
  });
});
