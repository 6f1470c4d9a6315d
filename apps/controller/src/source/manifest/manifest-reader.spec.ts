import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create as createTar } from 'tar';
import { MANIFEST_FILE_NAMES, readRootEntries } from './manifest-reader';

describe('readRootEntries', () => {
  let dir: string;
  const src = () => join(dir, 'src');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paas-manifest-reader-'));
    await mkdir(join(dir, 'src', 'sub'), { recursive: true });
    await writeFile(join(src(), 'manifest.yml'), 'applications:\n- name: shop\n');
    await writeFile(join(src(), 'big.yml'), 'x'.repeat(2000));
    await writeFile(join(src(), 'sub', 'manifest.yml'), 'not the root one');
    await writeFile(join(src(), 'server.js'), 'console.log(1)');
    await symlink('big.yml', join(src(), 'manifest.yaml'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function tar(name: string, files: string[], gzip = false): Promise<string> {
    const file = join(dir, name);
    await createTar({ cwd: src(), file, gzip, portable: true }, files);
    return file;
  }

  test('reads a root manifest of a tar (plain, with ./ names, or gzipped) and nothing else', async () => {
    for (const file of [
      await tar('plain.tar', ['server.js', 'sub', 'manifest.yml']),
      await tar('dotted.tar', ['./manifest.yml', './server.js']),
      await tar('zipped.tgz', ['manifest.yml', 'server.js'], true),
    ]) {
      const found = await readRootEntries(file, MANIFEST_FILE_NAMES, 1024);
      assert.deepEqual([...found.keys()], ['manifest.yml'], file);
      const entry = found.get('manifest.yml');
      assert.equal(entry?.kind, 'file');
      assert.equal(entry?.kind === 'file' && entry.data.toString(), 'applications:\n- name: shop\n');
    }
  });

  test('a symbolic link is reported, not followed; a large file is reported, not read', async () => {
    const found = await readRootEntries(await tar('odd.tar', ['manifest.yaml', 'big.yml']), ['manifest.yaml', 'big.yml'], 1024);
    assert.deepEqual(found.get('manifest.yaml'), { kind: 'not-a-file', type: 'symbolic link' });
    assert.deepEqual(found.get('big.yml'), { kind: 'too-large', size: 2000 });
  });

  test('a hard link, a FIFO, a directory or a device named manifest.yml is reported, not read', async () => {
    const member = (name: string, type: string, linkname = '') => {
      const header = Buffer.alloc(512);
      header.write(name, 0);
      header.write('0000644\0', 100);
      header.write('00000000000\0', 124);
      header.write('00000000000\0', 136);
      header.write('        ', 148);
      header.write(type, 156);
      header.write(linkname, 157);
      header.write('ustar\0' + '00', 257);
      let sum = 0;
      for (const byte of header) sum += byte;
      header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
      return header;
    };
    for (const [type, kind] of [['1', 'hard link'], ['6', 'FIFO'], ['5', 'directory'], ['3', 'device']]) {
      const file = join(dir, `kind-${type}.tar`);
      await writeFile(file, Buffer.concat([member('server.js', '0'), member('manifest.yml', type, type === '1' ? 'server.js' : ''), Buffer.alloc(1024)]));
      assert.deepEqual((await readRootEntries(file, MANIFEST_FILE_NAMES, 1024)).get('manifest.yml'), { kind: 'not-a-file', type: kind }, kind);
    }
  });

  test('a package that is not a tar, a cut gzip stream or an empty file has no manifest', async () => {
    const notTar = join(dir, 'not.tar');
    await writeFile(notTar, 'not really a tar');
    assert.equal((await readRootEntries(notTar, MANIFEST_FILE_NAMES, 1024)).size, 0);
    const cut = join(dir, 'cut.tgz');
    await writeFile(cut, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff, 0xff]));
    assert.equal((await readRootEntries(cut, MANIFEST_FILE_NAMES, 1024)).size, 0);
    const empty = join(dir, 'empty.tar');
    await writeFile(empty, '');
    assert.equal((await readRootEntries(empty, MANIFEST_FILE_NAMES, 1024)).size, 0);
  });
});
