import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobClient } from './blob-client';
import { BUILD_USER } from './build-user';
import { DropletCache } from './droplet-cache';

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

test('a droplet is unpacked as the build user; one with a FIFO is refused and leaves nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'paas-droplets-'));
  try {
    /** Blobs as local files: the URL is the droplet's path. */
    class LocalBlobs extends BlobClient {
      override async download(url: string, file: string): Promise<void> {
        await copyFile(url, file);
      }
    }
    const cache = new DropletCache(join(dir, 'droplets'), new LocalBlobs('x'.repeat(32)));
    await mkdir(join(dir, 'droplets'));
    await mkdir(join(dir, 'src', 'app'), { recursive: true });
    await writeFile(join(dir, 'src', 'app', 'server.js'), 'x');
    execFileSync('tar', ['-czf', join(dir, 'good.tgz'), '-C', join(dir, 'src'), 'app']);
    const layer = await cache.fetch('good', join(dir, 'good.tgz'));
    const info = await lstat(join(layer, 'home', 'vcap', 'app', 'server.js'));
    assert.deepEqual([info.uid, info.gid], [BUILD_USER.uid, BUILD_USER.gid], 'owned by the build user, as tar ran as that user');

    execFileSync('mkfifo', [join(dir, 'src', 'app', 'fifo')]);
    execFileSync('tar', ['-czf', join(dir, 'fifo.tgz'), '-C', join(dir, 'src'), 'app']);
    await assert.rejects(cache.fetch('fifo', join(dir, 'fifo.tgz')), /the droplet fifo has 1 member\(s\) that cannot be unpacked safely: app\/fifo: a FIFO/);
    assert.deepEqual((await readdir(join(dir, 'droplets'))).sort(), ['good'], 'nothing is left of the refused droplet');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
