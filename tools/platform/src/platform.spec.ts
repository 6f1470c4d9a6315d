import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSecretKey } from '@paas/redis';
import { cellNetworks, cellNetworksFromEnvFile } from './platform';
import { ensureSecretKey } from './secret-key';
import { postgresSettings } from '@paas/local-services';

test('generated cell networks never share a bridge, subnet, port range or chain', () => {
  const cells = cellNetworks('pt1a2b', 3, 210, 40000, 60000);
  for (const key of ['bridge', 'subnet', 'portRange', 'servicePorts', 'iptablesChain', 'containerPrefix'] as const) {
    assert.equal(new Set(cells.map((c) => c[key])).size, 3, key);
  }
  assert.ok(cells.every((c) => c.bridge.length <= 15 && c.iptablesChain.length <= 20));
  assert.deepEqual(cells.map((c) => c.servicePorts), ['60000-60024', '60025-60049', '60050-60074']);
});

test('the cell network file overrides what it names and leaves the rest generated', () => {
  const cells = cellNetworksFromEnvFile('# c\nCELL_1_BRIDGE=br-one\nCELL_1_SUBNET=10.9.9.0/24\n', 'paas', 2);
  assert.equal(cells[0].bridge, 'br-one');
  assert.equal(cells[0].subnet, '10.9.9.0/24');
  assert.equal(cells[1].bridge, 'paas-c2');
});

test('postgres settings become -c options, comments ignored', () => {
  assert.deepEqual(postgresSettings("# x\nlisten_addresses = '127.0.0.1'\nmax_connections = 100 # many\n"), [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'max_connections=100',
  ]);
});

test('the secret key is written once (32 bytes, base64, 0600) and kept; a damaged one is refused, never replaced', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'paas-secret-key-'));
  try {
    const file = await ensureSecretKey(dir);
    assert.equal(file, join(dir, 'secret-key'));
    const text = await readFile(file, 'utf8');
    assert.match(text, /^[A-Za-z0-9+/]{43}=\n$/);
    assert.equal(parseSecretKey(text).length, 32);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    await chmod(file, 0o644);
    await ensureSecretKey(dir);
    assert.equal(await readFile(file, 'utf8'), text, 'kept on the next start');
    assert.equal((await stat(file)).mode & 0o777, 0o600, 'tightened');
    await writeFile(file, 'not a key');
    await assert.rejects(ensureSecretKey(dir), /secret-key: the platform secret key must be 32 random bytes.*restore it from a backup/);
    assert.equal(await readFile(file, 'utf8'), 'not a key');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
