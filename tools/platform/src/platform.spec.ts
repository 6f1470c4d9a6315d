import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellNetworks, cellNetworksFromEnvFile } from './platform';
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
