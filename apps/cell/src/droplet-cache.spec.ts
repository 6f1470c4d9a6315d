import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chown, copyFile, lstat, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostVcapUser } from '@paas/runtime';
import { BlobClient } from './blob-client';
import { buildUserOf } from './build-user';
import { DropletCache } from './droplet-cache';
import { LocalBlobs } from './local-blobs';
import { run } from './exec';

test('a pinned droplet is not evicted until its last unpin', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'paas-droplets-'));
  try {
    const cache = new DropletCache(dir, new BlobClient('x'.repeat(32)));
    await mkdir(join(cache.layerDir('d1'), 'home', 'vcap', 'app'), { recursive: true });
    cache.pin('d1');
    cache.pin('d1');
    await cache.evict('d1');
    cache.unpin('d1');
    await cache.evict('d1');
    assert.deepEqual(await readdir(dir), ['d1'], 'still pinned once');
    cache.unpin('d1');
    assert.equal(cache.isPinned('d1'), false);
    await cache.evict('d1');
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('removeAllExcept keeps the droplets in use and pinned ones, and removes leftovers of interrupted downloads', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'paas-droplets-'));
  try {
    const cache = new DropletCache(dir, new BlobClient('x'.repeat(32)));
    for (const id of ['used', 'stale', 'pinned', 'half.part']) await mkdir(join(dir, id), { recursive: true });
    await writeFile(join(dir, 'half.part.tgz'), 'x');
    cache.pin('pinned');
    const removed = await cache.removeAllExcept(new Set(['used']));
    assert.deepEqual(removed.sort(), ['half.part', 'half.part.tgz', 'stale']);
    assert.deepEqual((await readdir(dir)).sort(), ['pinned', 'used']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("an unpacked droplet belongs to the containers' vcap whatever the tarball says, and its links are not followed", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'paas-droplets-'));
  try {
    const mapping = { hostId: 1_700_000, size: 65_536 };
    const vcap = hostVcapUser(mapping);
    // A droplet as an older cell packed it (owned by 2000) with a link to a host file beside it.
    const hostFile = join(dir, 'host-file');
    await writeFile(hostFile, 'root only\n', { mode: 0o600 });
    const src = join(dir, 'src');
    await mkdir(join(src, 'app'), { recursive: true });
    await writeFile(join(src, 'app', 'server.js'), 'x');
    await symlink(hostFile, join(src, 'app', 'link'));
    await chown(join(src, 'app', 'server.js'), 2000, 2000);
    const tgz = join(dir, 'droplet.tgz');
    await run('tar', ['-czf', tgz, '-C', src, 'app']);
    const blobs = new (class extends BlobClient {
      override async download(_url: string, file: string): Promise<void> {
        await copyFile(tgz, file);
      }
    })('x'.repeat(32));
    const cache = new DropletCache(join(dir, 'cache'), blobs, mapping);
    const layer = await cache.fetch('d1', 'http://unused/d1');
    for (const path of ['home/vcap', 'home/vcap/app', 'home/vcap/app/server.js']) {
      const stats = await stat(join(layer, path));
      assert.deepEqual([stats.uid, stats.gid], [vcap.uid, vcap.gid], path);
    }
    assert.equal((await lstat(join(layer, 'home/vcap/app/link'))).uid, vcap.uid, 'the link itself is changed');
    const target = await stat(hostFile);
    assert.deepEqual([target.uid, target.gid], [0, 0], 'the host file it points to is not');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a droplet is unpacked as the build user; one with a FIFO is refused and leaves nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'paas-droplets-'));
  try {
    const cache = new DropletCache(join(dir, 'droplets'), new LocalBlobs());
    await mkdir(join(dir, 'droplets'));
    await mkdir(join(dir, 'src', 'app'), { recursive: true });
    await writeFile(join(dir, 'src', 'app', 'server.js'), 'x');
    execFileSync('tar', ['-czf', join(dir, 'good.tgz'), '-C', join(dir, 'src'), 'app']);
    const layer = await cache.fetch('good', join(dir, 'good.tgz'));
    const info = await lstat(join(layer, 'home', 'vcap', 'app', 'server.js'));
    assert.deepEqual([info.uid, info.gid], [buildUserOf().uid, buildUserOf().gid], 'owned by the build user, as tar ran as that user');

    execFileSync('mkfifo', [join(dir, 'src', 'app', 'fifo')]);
    execFileSync('tar', ['-czf', join(dir, 'fifo.tgz'), '-C', join(dir, 'src'), 'app']);
    await assert.rejects(cache.fetch('fifo', join(dir, 'fifo.tgz')), /the droplet fifo has 1 member\(s\) that cannot be unpacked safely: app\/fifo: a FIFO/);
    assert.deepEqual((await readdir(join(dir, 'droplets'))).sort(), ['good'], 'nothing is left of the refused droplet');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
