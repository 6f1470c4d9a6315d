import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import {
  canonicalBuildpackName,
  envDirFiles,
  findBuildpack,
  listBuildpacks,
  orderBuildpackNames,
  parseOrderFile,
  unknownBuildpackMessage,
  type Buildpack,
} from './buildpack-catalog';
import { BUILTIN_BUILDPACKS_DIR, launchCommand } from './index';

const bp = (name: string, source: Buildpack['source'] = 'builtin'): Buildpack => ({ name, source, dir: `/x/${name}` });

test('parseOrderFile: one name a line, comments, blanks and duplicates dropped', () => {
  assert.deepEqual(parseOrderFile('# first\nruby\n\n  go  # inline\nruby\r\nphp\n'), ['ruby', 'go', 'php']);
});

test('orderBuildpackNames: the order file first, then the rest alphabetically; unknown listed names ignored', () => {
  assert.deepEqual(orderBuildpackNames(['b', 'a', 'c'], undefined), ['a', 'b', 'c']);
  assert.deepEqual(orderBuildpackNames(['b', 'a', 'c', 'd'], 'c\nmissing\na\n'), ['c', 'a', 'b', 'd']);
});

test('findBuildpack: exact names (operator first), then Heroku and Cloud Foundry aliases', () => {
  const all = [bp('nodejs', 'operator'), bp('ruby', 'operator'), bp('nodejs'), bp('static'), bp('procfile')];
  assert.equal(findBuildpack(all, 'nodejs')?.source, 'operator', 'an operator buildpack overrides a built-in of its name');
  assert.equal(findBuildpack(all, 'static')?.name, 'static');
  assert.equal(findBuildpack(all, 'heroku/nodejs')?.name, 'nodejs');
  assert.equal(findBuildpack(all, 'nodejs_buildpack')?.name, 'nodejs');
  assert.equal(findBuildpack(all, 'staticfile_buildpack')?.name, 'static');
  assert.equal(findBuildpack(all, 'ruby_buildpack')?.name, 'ruby');
  assert.equal(findBuildpack(all, 'python'), undefined);
  assert.equal(canonicalBuildpackName(' Heroku/NodeJS '), 'nodejs');
});

test('unknownBuildpackMessage names the request and every available buildpack once', () => {
  const message = unknownBuildpackMessage('python', [bp('go', 'operator'), bp('nodejs'), bp('static'), bp('procfile')]);
  assert.match(message, /unknown buildpack "python"/);
  assert.match(message, /go, nodejs, static, procfile/);
});

test('envDirFiles keeps shell-variable names only', () => {
  const { files, skipped } = envDirFiles({ GOOD_1: 'a', _x: 'b', 'bad-name': 'c', '../escape': 'd', '1X': 'e' });
  assert.deepEqual(files, [
    { name: 'GOOD_1', value: 'a' },
    { name: '_x', value: 'b' },
  ]);
  assert.deepEqual(skipped, ['bad-name', '../escape', '1X']);
});

test('listBuildpacks: operator buildpacks (usable ones, in their order) before the built-ins', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'paas-bp-catalog-'));
  try {
    const make = async (name: string, scripts: string[], mode = 0o755) => {
      await mkdir(join(dir, name, 'bin'), { recursive: true });
      for (const s of scripts) {
        await writeFile(join(dir, name, 'bin', s), '#!/bin/sh\nexit 0\n');
        await chmod(join(dir, name, 'bin', s), mode);
      }
    };
    await make('zeta', ['detect', 'compile', 'release']);
    await make('alpha', ['detect', 'compile']);
    await make('no-compile', ['detect']);
    await make('not-executable', ['detect', 'compile'], 0o644);
    await make('bad name', ['detect', 'compile']);
    await writeFile(join(dir, 'README.md'), 'notes');
    await symlink(join(dir, 'alpha'), join(dir, 'linked'));

    const first = await listBuildpacks(BUILTIN_BUILDPACKS_DIR, dir);
    const skipped = first.skipped;
    let buildpacks = first.buildpacks;
    assert.deepEqual(
      buildpacks.map((b) => `${b.source}:${b.name}`),
      ['operator:alpha', 'operator:zeta', 'builtin:nodejs', 'builtin:procfile', 'builtin:static'],
    );
    assert.deepEqual(skipped.map((s) => s.name).sort(), ['bad name', 'linked', 'no-compile', 'not-executable']);
    assert.match(skipped.find((s) => s.name === 'no-compile')!.why, /bin\/compile/);

    await writeFile(join(dir, 'order'), 'zeta\n');
    ({ buildpacks } = await listBuildpacks(BUILTIN_BUILDPACKS_DIR, dir));
    assert.deepEqual(buildpacks.slice(0, 2).map((b) => b.name), ['zeta', 'alpha']);

    ({ buildpacks } = await listBuildpacks(BUILTIN_BUILDPACKS_DIR, join(dir, 'missing')));
    assert.deepEqual(buildpacks.map((b) => b.name), ['nodejs', 'procfile', 'static'], 'a missing operator folder is empty');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('launchCommand sources .profile.d and .profile in the app folder, then runs the whole command line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'paas-launch-'));
  try {
    await mkdir(join(dir, '.profile.d'));
    await writeFile(join(dir, '.profile.d', 'nodejs.sh'), 'export GREETING=hello\n');
    await writeFile(join(dir, '.profile'), 'export NAME="$GREETING world"\n');
    const [command, ...args] = launchCommand(`echo "$NAME in $(basename "$PWD")"; echo 'it''s' && exit 3`, dir);
    const result = spawnSync(command, args, { encoding: 'utf8' });
    assert.equal(result.stdout, `hello world in ${basename(dir)}\nits\n`, result.stderr);
    assert.equal(result.status, 3, 'a compound line runs whole and its exit code is the app exit code');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
