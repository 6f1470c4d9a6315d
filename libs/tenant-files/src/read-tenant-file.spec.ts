import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTenantFile, readTenantText, TenantFileError, type TenantFileRule } from './read-tenant-file';

let dir: string;
let app: string;
let secret: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tenant-file-spec-'));
  app = join(dir, 'app');
  secret = join(dir, 'host-secret');
  await mkdir(join(app, 'config'), { recursive: true });
  await writeFile(secret, 'root: the host secret\n');
});
after(() => rm(dir, { recursive: true, force: true }));

const limit = { maxBytes: 1024 };
async function refused(path: string, rule: TenantFileRule): Promise<string> {
  const error = await readTenantFile(app, path, limit).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof TenantFileError, `${path}: refused with a TenantFileError, got ${String(error)}`);
  assert.equal(error.code, rule, path);
  return error.message;
}

test('reads a regular file, nested or not; a missing file or directory is undefined', async () => {
  await writeFile(join(app, 'Procfile'), '\uFEFFweb: node server.js\n');
  await writeFile(join(app, 'config', 'release.yml'), '---\n');
  assert.equal(await readTenantText(app, 'Procfile', limit), 'web: node server.js\n', 'the BOM is dropped');
  assert.equal((await readTenantFile(app, 'config/release.yml', limit))?.toString(), '---\n');
  assert.equal(await readTenantFile(app, 'missing', limit), undefined);
  assert.equal(await readTenantFile(app, 'nodir/missing', limit), undefined);
});

test('a symbolic link is never followed: to a host file, to a file of the app, as a directory on the way', async () => {
  await symlink(secret, join(app, 'link-out'));
  await writeFile(join(app, 'inside'), 'web: x');
  await symlink('inside', join(app, 'link-in'));
  await symlink(dir, join(app, 'dir-out'));
  await symlink('config', join(app, 'dir-in'));
  await symlink('nowhere', join(app, 'dangling'));
  assert.match(await refused('link-out', 'symbolic-link'), /^link-out is a symbolic link, and the platform follows no link of the app: commit the file itself/);
  await refused('link-in', 'symbolic-link');
  await refused('dangling', 'symbolic-link');
  assert.match(await refused('dir-out/host-secret', 'symbolic-link'), /dir-out\/host-secret: dir-out is a symbolic link/);
  await refused('dir-in/release.yml', 'symbolic-link');
});

test('a FIFO neither hangs nor is read; a directory, a socket and a device are no files', async () => {
  execFileSync('mkfifo', [join(app, 'fifo')]);
  assert.match(await refused('fifo', 'not-a-file'), /^fifo is a FIFO, not a regular file/);
  await mkdir(join(app, 'Procfile.d'));
  assert.match(await refused('Procfile.d', 'not-a-file'), /is a directory/);
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(join(app, 'sock'), resolve));
  try {
    assert.match(await refused('sock', 'not-a-file'), /sock is a socket/);
  } finally {
    server.close();
  }
  execFileSync('mknod', [join(app, 'null'), 'c', '1', '3']);
  assert.match(await refused('null', 'not-a-file'), /null is a device/);
});

test('a hard link (to a host file or not) is refused: its other name may be anywhere', async () => {
  await link(secret, join(app, 'hard'));
  assert.match(await refused('hard', 'hard-link'), /^hard is a hard link \(the file has 2 names\)/);
});

test('too large, and paths with ".." or absolute ones, are refused with the rule named', async () => {
  await writeFile(join(app, 'big'), 'x'.repeat(1025));
  assert.match(await refused('big', 'too-large'), /^big has 1025 bytes; the platform reads at most 1024 bytes of it/);
  assert.equal((await readTenantFile(app, 'big', { maxBytes: 1025 }))?.length, 1025);
  await refused('../host-secret', 'bad-path');
  await refused('/etc/passwd', 'bad-path');
  await refused('', 'bad-path');
  const labelled = await readTenantFile(app, 'big', { maxBytes: 10, label: 'the Procfile' }).catch((e: Error) => e.message);
  assert.match(String(labelled), /^the Procfile has 1025 bytes/);
});
