import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TarMemberCheck, type TarMember } from './tar-members';

/** The problems of members checked in order (undefined where a member is fine). */
const check = (...members: TarMember[]) => {
  const c = new TarMemberCheck();
  return members.map((m) => c.problem(m));
};

test('fine: files, directories, symlinks pointing anywhere, hard links to earlier regular files', () => {
  assert.deepEqual(
    check(
      { path: 'server.js', type: 'File' },
      { path: './lib/', type: 'Directory' },
      { path: 'link', type: 'SymbolicLink', linkpath: '/etc/passwd' },
      { path: 'b.js', type: 'Link', linkpath: './server.js' },
      { path: 'c.js', type: 'Link', linkpath: 'b.js' },
    ),
    [undefined, undefined, undefined, undefined, undefined],
    'a symlink itself stays inside the container; the platform never follows it',
  );
});

test('refused: absolute paths, "..", devices and FIFOs, members below a symlink of the archive', () => {
  const [abs, dots, dev, fifo] = check(
    { path: '/etc/cron.d/x', type: 'File' },
    { path: 'a/../../x', type: 'File' },
    { path: 'dev', type: 'CharacterDevice' },
    { path: 'Procfile', type: 'FIFO' },
  );
  assert.match(abs!, /absolute path/);
  assert.match(dots!, /"\.\." segment/);
  assert.match(dev!, /CharacterDevice/);
  assert.match(fifo!, /Procfile: a FIFO/);
  const [, below, deeper] = check({ path: 'out', type: 'SymbolicLink', linkpath: '/etc' }, { path: 'out/x', type: 'File' }, { path: 'out//y/z', type: 'Directory' });
  assert.match(below!, /out\/x: inside out, which is a symbolic link/);
  assert.match(deeper!, /inside out/);
});

test('refused hard links: out of the package, absolute, through a symlink, to a symlink, to nothing earlier, to a directory', () => {
  const hard = (linkpath: string | undefined, ...before: TarMember[]) => check(...before, { path: 'h', type: 'Link', linkpath }).at(-1);
  assert.match(hard('../../etc/shadow')!, /outside the package/);
  assert.match(hard('/etc/shadow')!, /outside the package/);
  assert.match(hard(undefined)!, /a hard link to nothing/);
  assert.match(hard('etc/shadow', { path: 'etc', type: 'SymbolicLink', linkpath: '/etc' })!, /through the symbolic link etc/);
  assert.match(hard('l', { path: 'l', type: 'SymbolicLink', linkpath: 'a' }, { path: 'a', type: 'File' })!, /through the symbolic link l/);
  assert.match(hard('later.js')!, /not a regular file earlier in the package/);
  assert.match(hard('lib', { path: 'lib', type: 'Directory' })!, /not a regular file earlier/);
  // A file replaced by a symlink of the same name is no hard link target any more.
  assert.match(hard('a', { path: 'a', type: 'File' }, { path: 'a', type: 'SymbolicLink', linkpath: '/etc/shadow' })!, /through the symbolic link a/);
  // A refused member is no target either.
  assert.match(hard('dev', { path: 'dev', type: 'CharacterDevice' })!, /not a regular file earlier/);
});
