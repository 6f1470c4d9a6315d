import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU_RULE, formatCpu, parseCpuMillicores } from './cpu';

describe('parseCpuMillicores', () => {
  test('cores as a number or a string, Docker style, and millicores, Kubernetes style', () => {
    const cases: Array<[unknown, number]> = [
      [0.5, 500],
      [1, 1000],
      [2, 2000],
      [0.25, 250],
      [1.5, 1500],
      ['0.5', 500],
      ['.5', 500],
      [' 2 ', 2000],
      ['1 core', 1000],
      ['2 cores', 2000],
      ['0.5 cpus', 500],
      ['500m', 500],
      ['10m', 10],
      ['1500m', 1500],
      ['0.010', 10],
      [64, 64_000],
    ];
    for (const [value, millicores] of cases) assert.equal(parseCpuMillicores(value), millicores, `${JSON.stringify(value)}`);
  });

  test('bad values name the valid forms, and the likely slip', () => {
    assert.equal(parseCpuMillicores('lots'), `${CPU_RULE} (got "lots")`);
    assert.equal(parseCpuMillicores(true), `${CPU_RULE} (got true)`);
    assert.equal(parseCpuMillicores(null), `${CPU_RULE} (got null)`);
    assert.equal(parseCpuMillicores(-1), 'must be from 0.01 (10m) to 64 cores (got -1)');
    assert.equal(parseCpuMillicores('-0.5'), `${CPU_RULE} (got "-0.5")`);
    assert.equal(parseCpuMillicores(0), 'must be from 0.01 (10m) to 64 cores (got 0)');
    assert.equal(parseCpuMillicores('0.001'), 'must be from 0.01 (10m) to 64 cores (got "0.001")');
    assert.equal(parseCpuMillicores('5m'), 'must be from 0.01 (10m) to 64 cores (got "5m")');
    assert.equal(parseCpuMillicores(65), 'must be from 0.01 (10m) to 64 cores (got 65)');
    assert.equal(parseCpuMillicores(Infinity), `${CPU_RULE} (got Infinity)`);
    assert.equal(parseCpuMillicores(Number.NaN), `${CPU_RULE} (got NaN)`);
    assert.equal(parseCpuMillicores(0.0005), `${CPU_RULE}, at most 3 decimals (got 0.0005)`);
    assert.equal(parseCpuMillicores('50%'), `${CPU_RULE} (got "50%"): a percentage of one core is cores/100, so write 0.5`);
    assert.equal(parseCpuMillicores('500M'), `${CPU_RULE} (got "500M"): a capital M is megabytes; millicores take a small m, like 500m`);
    assert.equal(parseCpuMillicores('2.5m'), `${CPU_RULE} (got "2.5m"): millicores are whole numbers, like 250m`);
    assert.equal(parseCpuMillicores('1e3m'), `${CPU_RULE} (got "1e3m")`);
    assert.equal(parseCpuMillicores('0x10'), `${CPU_RULE} (got "0x10")`);
  });

  test('formatCpu shows cores', () => {
    assert.equal(formatCpu(500), '0.5');
    assert.equal(formatCpu(2000), '2');
    assert.equal(formatCpu(1250), '1.25');
  });
});
