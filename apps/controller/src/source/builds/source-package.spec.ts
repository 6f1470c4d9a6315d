import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { craftedTar as tar, ustarMember as member } from '@paas/tenant-files';
import { DomainException } from '../../platform/common/domain.exception';
import { spoolSourcePackage } from './source-package';


async function spool(body: Buffer, max?: number) {
  return spoolSourcePackage(Readable.from([body]), max);
}

async function refusal(body: Buffer, max?: number): Promise<string> {
  const error = await spool(body, max).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof DomainException, 'refused with a domain exception');
  assert.equal(error.code, 'unprocessable');
  return error.message;
}

test('a good package, gzipped or not, is spooled with its size, sha256 and file count', async () => {
  const body = tar(member('package.json', '0', '{"name":"x"}'), member('lib/', '5'), member('lib/a.js', '0', 'x'), member('link.js', '2', '', 'lib/a.js'));
  for (const upload of [body, gzipSync(body)]) {
    const spooled = await spool(upload);
    try {
      assert.equal(spooled.size, upload.length);
      assert.equal(spooled.files, 3);
      assert.match(spooled.sha256, /^[0-9a-f]{64}$/);
      assert.deepEqual(await readFile(spooled.file), upload, 'the spooled file is the upload, byte for byte');
    } finally {
      await spooled.dispose();
    }
  }
});

test('refused: not a tar, empty, too large, or with members that would unpack outside the app', async () => {
  assert.match(await refusal(Buffer.from('this is not a tar archive at all, just text that goes on and on'.repeat(20))), /not a readable tar/);
  assert.match(await refusal(Buffer.alloc(0)), /empty/);
  assert.match(await refusal(tar(member('big.bin', '0', 'x'.repeat(4000))), 2048), /larger than .*\.cfignore/);
  const evil = await refusal(tar(member('ok.js', '0', 'x'), member('../../etc/cron.d/evil', '0', 'x'), member('out', '2', '', '/etc'), member('out/passwd', '0', 'x')));
  assert.match(evil, /2 member\(s\) that cannot be unpacked safely: \.\.\/\.\.\/etc\/cron\.d\/evil: .*; out\/passwd: inside out, which is a symbolic link/);
  assert.match(await refusal(gzipSync(tar(member('/abs.js', '0', 'x')))), /\/abs\.js: an absolute path/);
});

test('refused: hard links to host files, to links, to devices, through a symlinked directory; a device or a FIFO', async () => {
  // As an attacker packs them by hand: every variation of reaching a file outside the package through a link.
  const cases: Array<[string, Buffer[], RegExp]> = [
    ['a hard link out of the package', [member('shadow', '1', '', '../../etc/shadow')], /shadow: a hard link to \.\.\/\.\.\/etc\/shadow, outside the package/],
    ['a hard link to an absolute path', [member('shadow', '1', '', '/etc/shadow')], /outside the package/],
    ['a hard link through a symlinked directory', [member('etc', '2', '', '/etc'), member('shadow', '1', '', 'etc/shadow')], /shadow: a hard link to etc\/shadow, through the symbolic link etc/],
    ['a hard link to a symlink', [member('l', '2', '', '/etc/shadow'), member('h', '1', '', 'l')], /h: a hard link to l, through the symbolic link l/],
    ['a hard link to a file not in the package', [member('h', '1', '', 'etc/shadow')], /h: a hard link to etc\/shadow, which is not a regular file earlier in the package/],
    ['a hard link to a directory', [member('lib/', '5'), member('h', '1', '', 'lib')], /not a regular file earlier/],
    ['a character device', [member('null', '3')], /null: a CharacterDevice/],
    ['a FIFO', [member('Procfile', '6')], /Procfile: a FIFO/],
    ['a file below a symlinked directory', [member('d', '2', '', '../..'), member('d/Procfile', '0', 'web: x')], /d\/Procfile: inside d, which is a symbolic link/],
  ];
  for (const [what, members, expected] of cases) {
    const message = await refusal(tar(member('ok.js', '0', 'x'), ...members));
    assert.match(message, expected, what);
    assert.match(message, /Pack the app directory itself/, what);
  }
  // A hard link to a file earlier in the package is fine (git archive never makes one; tar does).
  const spooled = await spool(tar(member('a.js', '0', 'x'), member('b.js', '1', '', 'a.js')));
  await spooled.dispose();
});
