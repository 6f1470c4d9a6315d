import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSpec } from './container-runtime';
import { DEFAULT_ID_MAPPING } from './id-mapping';
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
  ((buildOciConfig({ spec: s, netnsPath: '/var/run/netns/x', cgroupsPath: '/paas/x', idMapping: DEFAULT_ID_MAPPING }).linux as { resources: { cpu: unknown } }).resources.cpu);

describe('OCI config: CPU', () => {
  it('without cpuMillicores: shares from memory, no quota (as before)', () => {
    assert.deepEqual(cpuOf(spec()), { shares: 256 });
  });

  it('cpuMillicores: a CFS quota of millicores/1000 cores per 10 ms period, beside the shares', () => {
    assert.deepEqual(cpuOf(spec({ cpuMillicores: 500 })), { shares: 256, quota: 5_000, period: 10_000 });
    assert.deepEqual(cpuOf(spec({ cpuMillicores: 100 })), { shares: 256, quota: 1_000, period: 10_000 });
    assert.deepEqual(cpuOf(spec({ cpuMillicores: 2500, memoryMb: 1024 })), { shares: 1024, quota: 25_000, period: 10_000 });
    assert.deepEqual(cpuOf(spec({ cpuMillicores: 64_000 })), { shares: 256, quota: 640_000, period: 10_000 });
  });

  it('below 100m the period grows so that the quota stays at the kernel minimum of 1 ms', () => {
    assert.deepEqual(cpuOf(spec({ cpuMillicores: 10 })), { shares: 256, quota: 1_000, period: 100_000 });
    assert.deepEqual(cpuOf(spec({ cpuMillicores: 50 })), { shares: 256, quota: 1_000, period: 20_000 });
    for (let m = 10; m <= 200; m++) {
      const { quota, period } = cpuOf(spec({ cpuMillicores: m })) as { quota: number; period: number };
      assert.ok(quota >= 1_000 && period >= 10_000 && period <= 100_000, `${m}m: ${quota}/${period}`);
      assert.ok(Math.abs((quota / period) * 1000 - m) < 0.1, `${m}m: ${quota}/${period} is ${(quota / period) * 1000}m`);
    }
  });
});
