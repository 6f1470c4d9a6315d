import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSizeMb, parseSizeMb } from './size';

describe('sizes', () => {
  test('units M, MB, MiB, G, GB, GiB, T in any case become megabytes', () => {
    const cases: Array<[string, number]> = [
      ['512M', 512],
      ['512m', 512],
      ['1024MB', 1024],
      ['256mb', 256],
      ['128MiB', 128],
      ['1G', 1024],
      ['2GB', 2048],
      ['2gb', 2048],
      ['1.5G', 1536],
      [' 64 M ', 64],
      ['1T', 1_048_576],
    ];
    for (const [text, mb] of cases) assert.equal(parseSizeMb(text), mb, text);
  });

  test('a bare number is refused with the fix', () => {
    assert.match(String(parseSizeMb(512)), /must be a size with a unit, like 512M or 1G \(got 512\): a bare number has no unit; write 512M/);
    assert.match(String(parseSizeMb('1024')), /write 1024M/);
  });

  test('other units and words are refused', () => {
    for (const bad of ['lots', '1K', '12 apples', '', true, null, ['1G'], '0.1M']) assert.equal(typeof parseSizeMb(bad), 'string', JSON.stringify(bad));
    assert.match(String(parseSizeMb(2n ** 70n)), /got 1180591620717411303424/);
  });

  test('formatSizeMb writes whole gigabytes as G and the rest as M', () => {
    assert.deepEqual([64, 1024, 1536, 4096].map(formatSizeMb), ['64M', '1G', '1536M', '4G']);
    for (const mb of [64, 1024, 1536, 4096]) assert.equal(parseSizeMb(formatSizeMb(mb)), mb, 'a formatted size parses back');
  });
});
