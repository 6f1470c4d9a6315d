import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSpec } from './container-runtime';
import { buildOciConfig } from './oci-spec';

const spec = (overrides: Partial<ContainerSpec> = {}): ContainerSpec => ({
  id: 'pc-1',
  layers: [],
  command: ['/bin/true'],
  cwd: '/',
  env: {},
  user: { uid: 2000, gid: 2000 },
  memoryMb: 256,
  pidsLimit: 16,
  ...overrides,
});

const cpuOf = (s: ContainerSpec) =>
  ((buildOciConfig({ spec: s, netnsPath: '/var/run/netns/x', cgroupsPath: '/paas/x' }).linux as { resources: { cpu: unknown } }).resources.cpu);

describe('OCI config: CPU', () => {
  it('without cpuMillicores: shares from memory, no quota (as before)', () => {
    assert.deepEqual(cpuOf(spec()), { shares: 256 });
  });

  it('cpuMillicores: a CFS quota of millicores/1000 cores per 100 ms period, beside the shares', () => {
    assert.deepEqual(cpuOf(spec({ cpuMillicores: 500 })), { shares: 256, quota: 50_000, period: 100_000 });
    assert.deepEqual(cpuOf(spec({ cpuMillicores: 10 })), { shares: 256, quota: 1_000, period: 100_000 });
    assert.deepEqual(cpuOf(spec({ cpuMillicores: 2500, memoryMb: 1024 })), { shares: 1024, quota: 250_000, period: 100_000 });
  });
});
