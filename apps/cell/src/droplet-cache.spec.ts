import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobClient } from './blob-client';
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
