import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { collectPackages, startNpmRegistryFixture, type NpmRegistryFixture } from './npm-registry-fixture';

const execFileAsync = promisify(execFile);

interface Packument {
  name: string;
  'dist-tags': { latest: string };
  versions: Record<string, { name: string; version: string; dependencies?: Record<string, string>; dist: { tarball: string; integrity: string; shasum: string } }>;
  time: Record<string, string>;
}

it('collectPackages follows Node resolution (nested node_modules first, then parents) and keeps every version', async () => {
  const root = await mkdtemp(join(tmpdir(), 'paas-npm-closure-'));
  try {
    const pkg = async (dir: string, name: string, version: string, deps: Record<string, string> = {}, extra: object = {}) => {
      await mkdir(join(root, dir), { recursive: true });
      await writeFile(join(root, dir, 'package.json'), JSON.stringify({ name, version, dependencies: deps, _resolved: 'x', ...extra }));
    };
    await pkg('node_modules/app-a', 'app-a', '1.0.0', { shared: '^2.0.0', '@scope/util': '^1.0.0' });
    await pkg('node_modules/app-a/node_modules/shared', 'shared', '2.0.0', { leaf: '*' });
    await pkg('node_modules/shared', 'shared', '1.0.0');
    await pkg('node_modules/@scope/util', '@scope/util', '1.0.0', { shared: '^1.0.0' });
    await pkg('node_modules/leaf', 'leaf', '3.0.0', {}, { optionalDependencies: { 'other-os-binary': '1.0.0' } });
    await pkg('node_modules/unrelated', 'unrelated', '1.0.0');
    const found = await collectPackages(['app-a'], root);
    assert.deepEqual([...found.keys()].sort(), ['@scope/util@1.0.0', 'app-a@1.0.0', 'leaf@3.0.0', 'shared@1.0.0', 'shared@2.0.0']);
    assert.equal(found.get('shared@2.0.0')!.dir, join(root, 'node_modules/app-a/node_modules/shared'));
    assert.equal(found.get('app-a@1.0.0')!.manifest._resolved, undefined, "npm's install bookkeeping is not published");
    await assert.rejects(collectPackages(['missing-one'], root), /missing-one \(needed by the fixture\) is not in/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

describe('npm registry fixture (node_modules republished on 127.0.0.1)', () => {
  let registry: NpmRegistryFixture;
  let tmp: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-npm-fixture-'));
    registry = await startNpmRegistryFixture({ host: '127.0.0.1', packages: ['express'], nodeBinary: false });
  });
  after(async () => {
    await registry?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('serves every version Node resolution finds, with tarballs whose sha512 and sha1 match the packument', async () => {
    assert.ok(registry.served.some((p) => /^express@5\./.test(p)));
    const packument = (await (await fetch(`${registry.url}express`)).json()) as Packument;
    const latest = packument.versions[packument['dist-tags'].latest];
    assert.equal(latest.name, 'express');
    assert.ok(packument.time[latest.version]);
    assert.ok(latest.dependencies?.['body-parser']);
    const tarball = Buffer.from(await (await fetch(latest.dist.tarball)).arrayBuffer());
    assert.equal(latest.dist.integrity, `sha512-${createHash('sha512').update(tarball).digest('base64')}`);
    assert.equal(latest.dist.shasum, createHash('sha1').update(tarball).digest('hex'));
    const file = join(tmp, 'express.tgz');
    await writeFile(file, tarball);
    const { stdout } = await execFileAsync('tar', ['-tzf', file]);
    const entries = stdout.trim().split('\n');
    assert.ok(entries.includes('package/package.json'));
    assert.ok(entries.every((e) => e === 'package/' || e.startsWith('package/')), 'everything under package/');
    assert.ok(!entries.some((e) => e.includes('/node_modules/')), 'nested node_modules are not packed');
  });

  it('answers 404 JSON for unknown packages and logs every request path', async () => {
    const response = await fetch(`${registry.url}no-such-package-here`);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { error: 'not found' });
    assert.equal((await fetch(`${registry.url}express`)).status, 200);
    assert.ok(registry.requests.includes('/no-such-package-here'));
    assert.ok(registry.requests.includes('/express'));
  });

  it('is what npm install accepts', async () => {
    const app = join(tmp, 'app');
    await execFileAsync('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'a', version: '1.0.0', dependencies: { express: '^5.0.0' } }));
    await execFileAsync('npm', ['install', '--no-audit', '--no-fund', '--registry', registry.url, '--cache', join(tmp, 'cache')], { cwd: app });
    const { stdout } = await execFileAsync(process.execPath, ['-e', 'console.log(typeof require("express"))'], { cwd: app });
    assert.equal(stdout.trim(), 'function');
  });
});
