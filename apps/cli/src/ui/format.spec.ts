import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ago, formatBytes, formatCpuLimit, formatDuration, formatMb, parseCpuFlag, parseSizeFlag } from './format';

test('size flags use the platform parser: units required, 1G = 1024M, messages name the flag', () => {
  assert.equal(parseSizeFlag('-m', '512M'), 512);
  assert.equal(parseSizeFlag('-m', '1G'), 1024);
  assert.equal(parseSizeFlag('-k', '1.5g'), 1536);
  assert.equal(parseSizeFlag('-m', '2GB'), 2048);
  assert.match(String(parseSizeFlag('-m', '512')), /^-m must be a size with a unit.*write 512M/);
  assert.match(String(parseSizeFlag('-k', 'lots')), /^-k must be a size with a unit, like 512M or 1G \(got "lots"\)/);
  assert.match(String(parseSizeFlag('-m', '0.3M')), /whole number of megabytes/);
});

test('--cpu takes cores or millicores with the manifest parser; none removes the quota; messages name the flag', () => {
  assert.equal(parseCpuFlag('0.5'), 500);
  assert.equal(parseCpuFlag('2'), 2000);
  assert.equal(parseCpuFlag('250m'), 250);
  assert.equal(parseCpuFlag('1.5 cores'), 1500);
  assert.equal(parseCpuFlag('none'), null);
  assert.equal(parseCpuFlag('Unlimited'), null);
  assert.equal(parseCpuFlag('lots'), '--cpu must be CPU cores like 0.5 or 2, or millicores like 500m (got "lots"), or none to remove the quota');
  assert.match(String(parseCpuFlag('0')), /^--cpu must be from 0\.01 \(10m\) to 64 cores \(got "0"\), or none/);
  assert.match(String(parseCpuFlag('50%')), /write 0\.5/);
  assert.equal(formatCpuLimit(500), '0.5');
  assert.equal(formatCpuLimit(null), 'none');
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
