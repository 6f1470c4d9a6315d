import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineSplitter, outputFiles, readFileTail } from './log-shipper';

test('lines split on newlines across chunks; consumed stops at the last complete line', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push(Buffer.from('one\ntw')), ['one']);
  assert.equal(s.consumed, 4);
  assert.deepEqual(s.push(Buffer.from('o\r\nthree')), ['two\r'], 'the writer drops the \\r');
  assert.equal(s.consumed, 9);
  assert.deepEqual(s.push(Buffer.from('\n\n')), ['three', '']);
  assert.equal(s.consumed, 16);
  assert.deepEqual(s.end(), []);
});

test('a multi-byte character split across reads stays whole', () => {
  const s = new LineSplitter();
  const bytes = Buffer.from('héllo wörld\n');
  assert.deepEqual(s.push(bytes.subarray(0, 2)), []);
  assert.deepEqual(s.push(bytes.subarray(2)), ['héllo wörld']);
  assert.equal(s.consumed, bytes.length);
});

test('an overlong line is cut, marked, and the rest of it skipped', () => {
  const s = new LineSplitter(10);
  assert.deepEqual(s.push(Buffer.from('0123456789abcdef')), ['0123456789 [line cut]']);
  assert.equal(s.consumed, 16, 'the cut part counts as shipped');
  assert.deepEqual(s.push(Buffer.from('ghij')), []);
  assert.deepEqual(s.push(Buffer.from('klm\nnext\n')), ['next'], 'the tail of the cut line is not a line of its own');
  assert.equal(s.consumed, 29);
});

test('end() gives the last line without a newline', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push(Buffer.from('done\nno newline')), ['done']);
  assert.deepEqual(s.end(), ['no newline']);
  assert.equal(s.consumed, 15);
});

test('output files: stdout and stderr of an instance beside each other', () => {
  assert.deepEqual(outputFiles('/d/logs', 'i-1'), { out: '/d/logs/i-1.log', err: '/d/logs/i-1.err.log' });
});

test('readFileTail reads only the end of a big file, and nothing of a missing one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'paas-tail-'));
  try {
    await writeFile(join(dir, 'big.log'), `${'x'.repeat(100_000)}\nlast line\n`);
    const tail = await readFileTail(join(dir, 'big.log'), 1000);
    assert.equal(tail.length, 1000);
    assert.ok(tail.endsWith('last line\n'));
    assert.equal(await readFileTail(join(dir, 'missing.log')), '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
