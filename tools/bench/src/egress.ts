/**
 * tools/bench/egress: what the egress policy costs a container start. Starts BENCH_RUNS (default
 * 8) containers (`sleep`) on a runc runtime of its own for each rule count (0: default deny; 7: the
 * platform defaults public_networks + dns; 100: the most one group holds; 300: three full groups)
 * and prints the median and p90 of `start()` (prepare with its egress chains, then `runc run`),
 * side by side with the ratio to 0 rules. Traffic: none; everything it creates is removed at the end.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RuncRuntime, cleanupAll, ensureStack, testRuntimeConfig, VCAP_GID, VCAP_UID, type EgressRule } from '@paas/runtime';

const RUNS = Number(process.env.BENCH_RUNS ?? 8);
const COUNTS = [0, 7, 100, 300];

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

function rules(count: number): EgressRule[] {
  return Array.from({ length: count }, (_, i) => ({ destination: `203.0.${Math.floor(i / 250)}.${(i % 250) + 1}`, protocol: 'tcp', ports: '443' }));
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'paas-bench-egress-'));
  const name = `pb${randomBytes(2).toString('hex')}`;
  const config = testRuntimeConfig(name, tmp, 30_000 + Math.floor(Math.random() * 300) * 100);
  try {
    await ensureStack(config.stackDir);
    await mkdir(join(tmp, 'layer'), { recursive: true });
    const runtime = new RuncRuntime(config);
    const rows: Array<{ count: number; start: number[] }> = [];
    for (const count of COUNTS) {
      const row = { count, start: [] as number[] };
      for (let i = 0; i < RUNS; i++) {
        const id = `${name}-${count}-${i}`;
        const began = performance.now();
        await runtime.start({
          id,
          layers: [join(tmp, 'layer')],
          command: ['/usr/bin/sleep', '30'],
          cwd: '/',
          env: {},
          user: { uid: VCAP_UID, gid: VCAP_GID },
          memoryMb: 32,
          pidsLimit: 16,
          egress: { rules: rules(count) },
        });
        row.start.push(performance.now() - began);
        await runtime.destroy(id);
      }
      rows.push(row);
    }
    const base = rows[0]!;
    console.log(`egress policy cost per container start (${RUNS} runs each, ms)`);
    console.log('rules  start p50  start p90  ratio p50');
    for (const r of rows) {
      const f = (n: number) => n.toFixed(1).padStart(9);
      console.log(
        `${String(r.count).padStart(5)}  ${f(quantile(r.start, 0.5))}  ${f(quantile(r.start, 0.9))}  ${(quantile(r.start, 0.5) / quantile(base.start, 0.5)).toFixed(2).padStart(9)}`,
      );
    }
  } finally {
    await cleanupAll(config).catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
    await rm(tmp, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
