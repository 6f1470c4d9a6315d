import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ago, formatBytes, formatDuration, formatMb, parseSizeFlag } from './format';

test('size flags use the platform parser: units required, 1G = 1024M, messages name the flag', () => {
  assert.equal(parseSizeFlag('-m', '512M'), 512);
  assert.equal(parseSizeFlag('-m', '1G'), 1024);
  assert.equal(parseSizeFlag('-k', '1.5g'), 1536);
  assert.equal(parseSizeFlag('-m', '2GB'), 2048);
  assert.match(String(parseSizeFlag('-m', '512')), /^-m must be a size with a unit.*write 512M/);
  assert.match(String(parseSizeFlag('-k', 'lots')), /^-k must be a size with a unit, like 512M or 1G \(got "lots"\)/);
  assert.match(String(parseSizeFlag('-m', '0.3M')), /whole number of megabytes/);
});

test('sizes and durations are short and readable', () => {
  assert.equal(formatMb(256), '256M');
  assert.equal(formatMb(1024), '1G');
  assert.equal(formatMb(1536), '1.5G');
  assert.equal(formatBytes(900), '900B');
  assert.equal(formatBytes(43_300_000), '41.3M');
  assert.equal(formatBytes(5 * 1024 ** 3), '5.0G');
  assert.equal(formatDuration(45), '45s');
  assert.equal(formatDuration(125), '2m5s');
  assert.equal(formatDuration(3 * 3600 + 20 * 60), '3h20m');
  assert.equal(formatDuration(2 * 86400 + 4 * 3600), '2d4h');
  assert.equal(ago('2024-01-01T00:00:00Z', Date.parse('2024-01-01T00:01:00Z')), '1m ago');
});
