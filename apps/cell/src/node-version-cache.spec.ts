import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { nodeVersionsToPrune, pruneNodeVersions } from './node-version-cache';

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
