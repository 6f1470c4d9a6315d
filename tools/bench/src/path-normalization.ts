/**
 * tools/bench/path-normalization (`npm run bench:paths`): what the router's per-request path
 * normalization (normalizeRequestPath from @paas/contracts, issue 12) costs, beside the WHATWG URL
 * parse that http-proxy-3 ran on every request before the router forwarded targets as sent
 * (toProxy). Pure CPU in this process: per path, the median ns/op of BENCH_ROUNDS (5) rounds of
 * BENCH_ITERATIONS (500000) calls, and the ratio normalize/URL.
 */
import { normalizeRequestPath } from '@paas/contracts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 500_000);
const PATHS = ['/', '/api/v1/users/12345', '/static/js/app.3f2a1b.js', '/x/../api', '/caf%C3%A9/%61pi', '/api%2Fx'];

let sink = 0;
function nsPerOp(fn: () => unknown): number {
  const rounds: number[] = [];
  for (let i = 0; i < ITERATIONS / 10; i++) fn();
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) if (fn()) sink++;
    rounds.push(Number(process.hrtime.bigint() - start) / ITERATIONS);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
}

console.log(`path normalization, median of ${ROUNDS} rounds x ${ITERATIONS} calls, ns/op`);
console.log(`${'path'.padEnd(28)} ${'normalize'.padStart(10)} ${'WHATWG URL'.padStart(11)} ${'ratio'.padStart(6)}`);
for (const path of PATHS) {
  const normalize = nsPerOp(() => normalizeRequestPath(path).ok);
  const url = nsPerOp(() => new URL(path, 'http://base.invalid').pathname);
  console.log(`${path.padEnd(28)} ${normalize.toFixed(0).padStart(10)} ${url.toFixed(0).padStart(11)} ${(normalize / url).toFixed(2).padStart(6)}`);
}
if (sink < 0) console.log(sink);
