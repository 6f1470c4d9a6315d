import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCellConfig } from './config';

const base = {
  CELL_ID: 'c1',
  CELL_DATA_DIR: '/var/lib/paas',
  CELL_BRIDGE: 'paas-c1',
  CELL_SUBNET: '10.244.1.0/24',
  CELL_IPTABLES_CHAIN: 'PAAS-C1',
  CELL_CONTAINER_PREFIX: 'paas-c1',
  REDIS_URL: 'redis://127.0.0.1:6379',
  PAAS_INTERNAL_TOKEN: 'x'.repeat(32),
};

describe('loadCellConfig: egress and management addresses', () => {
  it('serves metrics on loopback by default, not on CELL_ADDRESS where containers could reach them', () => {
    const c = loadCellConfig({ ...base, CELL_ADDRESS: '10.0.0.7' });
    assert.equal(c.metricsHost, '127.0.0.1');
    assert.deepEqual(c.platformNetworks, []);
    assert.equal(c.routerAddress, undefined);
    assert.equal(loadCellConfig({ ...base, CELL_METRICS_ADDRESS: '10.9.0.7' }).metricsHost, '10.9.0.7');
    assert.throws(() => loadCellConfig({ ...base, CELL_METRICS_ADDRESS: 'mgmt.local' }), /CELL_METRICS_ADDRESS must be an IPv4 address/);
  });

  it('reads the platform networks and the router address, naming a bad one', () => {
    const c = loadCellConfig({ ...base, CELL_PLATFORM_NETWORKS: '10.0.0.0/16, 192.168.7.9', CELL_ROUTER_ADDRESS: '127.0.0.1:8080' });
    assert.deepEqual(c.platformNetworks, ['10.0.0.0/16', '192.168.7.9']);
    assert.deepEqual(c.routerAddress, { host: '127.0.0.1', port: 8080 });
    assert.throws(() => loadCellConfig({ ...base, CELL_PLATFORM_NETWORKS: '10.0.0.0/33' }), /CELL_PLATFORM_NETWORKS: destination "10.0.0.0\/33" has a prefix length/);
    assert.throws(() => loadCellConfig({ ...base, CELL_PLATFORM_NETWORKS: '10.0.0.1-10.0.0.5' }), /not a range/);
    assert.throws(() => loadCellConfig({ ...base, CELL_ROUTER_ADDRESS: 'router:8080' }), /CELL_ROUTER_ADDRESS must be ip:port/);
    assert.throws(() => loadCellConfig({ ...base, CELL_ROUTER_ADDRESS: '127.0.0.1:99999' }), /CELL_ROUTER_ADDRESS must be ip:port/);
  });
});

describe('loadCellConfig: the service port range', () => {
  it('reads CELL_SERVICE_PORTS, apart from the app port range', () => {
    assert.deepEqual(loadCellConfig(base).servicePortRange, [62000, 62099]);
    assert.equal(loadCellConfig(base).servicesDir, '/var/lib/paas/services');
    assert.deepEqual(loadCellConfig({ ...base, CELL_SERVICE_PORTS: '48000-48009' }).servicePortRange, [48000, 48009]);
  });

  it('refuses a malformed, reversed or overlapping range, naming it', () => {
    assert.throws(() => loadCellConfig({ ...base, CELL_SERVICE_PORTS: '47000' }), /CELL_SERVICE_PORTS must be a port range like 62000-62099/);
    assert.throws(() => loadCellConfig({ ...base, CELL_SERVICE_PORTS: '47099-47000' }), /CELL_SERVICE_PORTS must be a port range/);
    assert.throws(() => loadCellConfig({ ...base, CELL_SERVICE_PORTS: '80-90' }), /CELL_SERVICE_PORTS must be a port range/);
    assert.throws(
      () => loadCellConfig({ ...base, CELL_PORT_RANGE: '62050-62999' }),
      /CELL_SERVICE_PORTS 62000-62099 overlaps CELL_PORT_RANGE 62050-62999: give the services a range of their own/,
    );
  });
});
