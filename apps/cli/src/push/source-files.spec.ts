import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ignoreLayer, isIgnored, listSourceFiles } from './source-files';

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'paas-cli-files-'));
  const files: Record<string, string> = {
    'package.json': '{}',
    'server.js': '',
    '.gitignore': 'node_modules/\n*.log\n!keep.log\n/dist\n',
    '.cfignore': 'secrets.env\ndocs/\n',
    'secrets.env': 'X=1',
    'debug.log': '',
    'keep.log': '',
    'dist/out.js': '',
    'lib/dist/kept.js': '',
    'node_modules/x/index.js': '',
    'docs/readme.md': '',
    'lib/a.js': '',
    'lib/.gitignore': 'generated.js\n!debug2.log\n',
    'lib/generated.js': '',
    'lib/debug2.log': '',
    'lib/other.log': '',
    '.git/HEAD': 'ref: refs/heads/main',
    'sub/.DS_Store': '',
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  await symlink('server.js', join(root, 'link.js'));
});

after(() => rm(root, { recursive: true, force: true }));

test('the upload leaves out what .gitignore (nested ones too) and .cfignore exclude, and VCS metadata', async () => {
  const paths = (await listSourceFiles(root)).map((f) => f.path);
  assert.deepEqual(paths, [
    '.cfignore',
    '.gitignore',
    'keep.log',
    'lib/.gitignore',
    'lib/a.js',
    'lib/debug2.log',
    'lib/dist/kept.js',
    'link.js',
    'package.json',
    'server.js',
  ]);
});

test('rules: the deepest file decides, a later rule beats an earlier one, dir-only patterns match directories only', () => {
  const layers = [ignoreLayer('', 'build/\n*.tmp\n'), ignoreLayer('pkg', '!*.tmp\n')];
  assert.equal(isIgnored('a.tmp', false, layers), true);
  assert.equal(isIgnored('pkg/a.tmp', false, layers), false, 'the nested !*.tmp re-includes');
  assert.equal(isIgnored('build', true, layers), true);
  assert.equal(isIgnored('build', false, layers), false, 'a file named build is not the build/ directory');
  assert.equal(isIgnored('x/.git', true, []), true);
});
