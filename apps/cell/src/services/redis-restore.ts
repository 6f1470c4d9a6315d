import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * The files of a Redis restore (restore-service) on the instance's volume, its server stopped.
 * Redis 7 with `appendonly yes` loads its data from `appendonlydir/` alone (a `dump.rdb` beside it
 * is ignored): a manifest naming one base file of type `b` (an RDB) makes it load that snapshot,
 * then append to a fresh incr file. The server runs as vcap and may have written anything into
 * /data, links included, so nothing here follows a link or changes the owner of a path it did not
 * just create: new files and folders are made (O_EXCL, O_NOFOLLOW), given to vcap through their
 * own descriptors, and moved into place by rename (which moves a planted link, never its target).
 */

const AOF_DIR = 'appendonlydir';
const BASE_FILE = 'appendonly.aof.1.base.rdb';
const MANIFEST_FILE = 'appendonly.aof.manifest';
/** What the restored appendonlydir's manifest says: one base, the snapshot. */
export const RESTORE_MANIFEST = `file ${BASE_FILE} seq 1 type b\n`;
/** What a restore moves aside (and back when the server does not run on the snapshot). */
const OLD_DATA = [AOF_DIR, 'dump.rdb'];
/** The first bytes of every RDB file. */
const RDB_MAGIC = 'REDIS';

export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Throws, naming both, when `file` is not `sizeBytes` long, its SHA-256 is not `sha256`, or it
 * does not start as an RDB file does: nothing is changed for a snapshot that is not the backup.
 */
export async function verifySnapshot(file: string, sizeBytes: number, sha256: string): Promise<void> {
  const size = (await lstat(file)).size;
  if (size !== sizeBytes) throw new Error(`the backup's download has ${size} bytes where the backup has ${sizeBytes}: not restored, the data is as it was`);
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  const actual = hash.digest('hex');
  if (actual !== sha256) throw new Error(`the backup's download has sha256 ${actual} where the backup has ${sha256}: not restored, the data is as it was`);
  const head = Buffer.alloc(RDB_MAGIC.length);
  const handle = await open(file, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  if (head.toString('latin1') !== RDB_MAGIC) throw new Error('the backup is not an RDB snapshot (it does not start with REDIS): not restored, the data is as it was');
}

/**
 * Puts `snapshot` in place as the data of the Redis whose /data is `dataDir` (its server stopped):
 * the old appendonlydir and dump.rdb move into a fresh folder aside, a fresh appendonlydir holds
 * the snapshot as its base and the manifest, both vcap's, 0600. Returns the folder aside (for
 * `discardAside` once the server runs on the snapshot, `putBack` when it does not). On an error
 * nothing of the old data is lost: what moved is moved back before it throws.
 */
export async function putSnapshotInPlace(dataDir: string, snapshot: string, owner: Owner): Promise<string> {
  const staged = await freshDir(dataDir, '.restore-new', owner);
  let aside: string | undefined;
  try {
    await writeOwnFile(join(staged, BASE_FILE), owner, (fd) => copyInto(snapshot, fd));
    await writeOwnFile(join(staged, MANIFEST_FILE), owner, async (fd) => void (await fd.writeFile(RESTORE_MANIFEST)));
    aside = await freshDir(dataDir, '.restore-old');
    await moveEntries(dataDir, aside, OLD_DATA);
    await rename(staged, join(dataDir, AOF_DIR));
    return aside;
  } catch (error) {
    if (aside) await moveEntries(aside, dataDir, OLD_DATA).catch(() => undefined);
    await rm(staged, { recursive: true, force: true });
    if (aside) await rm(aside, { recursive: true, force: true });
    throw error;
  }
}

/** The server did not run on the snapshot: the restored appendonlydir goes, the old data returns from `aside`. */
export async function putBack(dataDir: string, aside: string): Promise<void> {
  const trash = await freshDir(dataDir, '.restore-failed');
  await moveEntries(dataDir, trash, OLD_DATA);
  await moveEntries(aside, dataDir, OLD_DATA);
  await rm(trash, { recursive: true, force: true });
  await rm(aside, { recursive: true, force: true });
}

/** The server runs on the snapshot: the old data goes (rm never follows the links in it). */
export async function discardAside(aside: string): Promise<void> {
  await rm(aside, { recursive: true, force: true });
}

/**
 * Before a Redis starts outside a restore: settles what a restore cut short (the agent or host
 * died) left in its /data. Without an appendonlydir, the one in a folder aside is moved back (the
 * old data, the snapshot never made it in place); staged and failed folders go. A folder aside
 * next to an appendonlydir stays: the restored data is in place, the old one is kept rather than
 * guessed away (an operator removes it). Returns what it did, for the log.
 */
export async function settleInterruptedRestore(dataDir: string): Promise<string[]> {
  const done: string[] = [];
  const names = await readdir(dataDir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith('.restore-new-') || n.startsWith('.restore-failed-'))) {
    await rm(join(dataDir, name), { recursive: true, force: true });
    done.push(`removed ${name}`);
  }
  const hasData = await lstat(join(dataDir, AOF_DIR)).then(() => true, () => false);
  const aside = names.filter((n) => n.startsWith('.restore-old-'));
  if (!hasData && aside.length === 1 && (await lstat(join(dataDir, aside[0]!, AOF_DIR)).then(() => true, () => false))) {
    await moveEntries(join(dataDir, aside[0]!), dataDir, OLD_DATA);
    await rm(join(dataDir, aside[0]!), { recursive: true, force: true });
    done.push(`moved the data of ${aside[0]} back`);
  }
  return done;
}

/** A new folder `<name>-<random>` in `parent` (mkdir fails on anything there, a link included), 0700, given to `owner` through its own descriptor. */
async function freshDir(parent: string, name: string, owner?: Owner): Promise<string> {
  const path = join(parent, `${name}-${randomBytes(6).toString('hex')}`);
  await mkdir(path, { mode: 0o700 });
  const fd = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    if (owner) await chownOwn(fd, owner);
    await fd.chmod(0o700);
  } finally {
    await fd.close();
  }
  return path;
}

/** Creates `path` (it must not exist; never through a link), 0600, `owner`'s, and fills it with `write`; synced before it returns. */
async function writeOwnFile(path: string, owner: Owner, write: (fd: FileHandle) => Promise<void>): Promise<void> {
  const fd = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await chownOwn(fd, owner);
    await write(fd);
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/** Appends the content of `source` (root's own file) to `fd`. */
async function copyInto(source: string, fd: FileHandle): Promise<void> {
  const input = await open(source, 'r');
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    for (;;) {
      const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      let written = 0;
      while (written < bytesRead) written += (await fd.write(buffer, written, bytesRead - written)).bytesWritten;
    }
  } finally {
    await input.close();
  }
}

async function chownOwn(fd: FileHandle, owner: Owner): Promise<void> {
  await fd.chown(owner.uid, owner.gid).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPERM') throw error; // the fake runtime's cell may run unprivileged
  });
}

/** Moves each of `names` that exists in `from` (whatever it is: a file, a folder, a link) to `to`. */
async function moveEntries(from: string, to: string, names: string[]): Promise<void> {
  for (const name of names) {
    if (!(await lstat(join(from, name)).then(() => true, () => false))) continue;
    await rename(join(from, name), join(to, name));
  }
}
