/**
 * `npm test`: lint, then every suite (unit, integration, e2e) with node's test runner, and one
 * closing line `N passed, N failed` summed over the suites. Exits non-zero when anything failed.
 */
import { spawn } from 'node:child_process';
import { globSync } from 'node:fs';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sweepAbandonedPlatforms } from '@paas/test-platform';

const root = resolve(__dirname, '..', '..', '..');
const projects = ['libs/*', 'apps/*', 'tools/*'];

interface Suite {
  name: string;
  pattern: string;
  concurrency: number;
}

const suites: Suite[] = [
  { name: 'unit', pattern: '*.spec.js', concurrency: 2 },
  { name: 'integration', pattern: '*.integration-spec.js', concurrency: 2 },
  { name: 'e2e', pattern: '*.e2e-spec.js', concurrency: 2 },
];

/** The built specs of every project whose source still exists (tsc leaves a moved file's output behind). */
function filesOf(pattern: string): string[] {
  const sourceOf = (built: string) => built.replace(/^([^/]+\/[^/]+)\/dist\//, '$1/src/').replace(/\.js$/, '.ts');
  return projects
    .flatMap((p) => globSync(`${p}/dist/**/${pattern}`, { cwd: root }))
    .filter((f) => !f.includes('node_modules') && existsSync(join(root, sourceOf(f))))
    .sort();
}

function run(file: string, args: string[], stdout: 'inherit' | 'ignore' = 'inherit'): Promise<number> {
  return new Promise((resolveExit) => {
    const child = spawn(file, args, { cwd: root, stdio: ['ignore', stdout, 'inherit'] });
    child.on('exit', (code, signal) => resolveExit(code ?? (signal ? 1 : 0)));
  });
}
const runNode = (args: string[]) => run(process.execPath, args);

function countTap(file: string): { passed: number; failed: number } {
  const text = readFileSync(file, 'utf8');
  const read = (key: string) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { passed: read('pass'), failed: read('fail') + read('cancelled') };
}

async function lint(): Promise<boolean> {
  console.log('\n=== lint (eslint, with the Nx module boundaries) ===');
  // The same as `npm run lint`: it makes Nx's project graph first, without which the boundaries rule would skip.
  return (await run('bash', [join(root, 'tools', 'lint.sh')])) === 0;
}

async function main(): Promise<void> {
  const only = process.env.PAAS_TEST_SUITES?.split(',');
  let passed = 0;
  let failed = 0;
  if (!only || only.includes('lint')) {
    if (await lint()) passed += 1;
    else failed += 1;
  }
  // An earlier run killed from outside left its private platforms running: they go first.
  const swept = await sweepAbandonedPlatforms();
  if (swept.length > 0) console.log(`swept ${swept.length} platform(s) an interrupted run left behind: ${swept.join(', ')}`);
  const tmp = mkdtempSync(join(tmpdir(), 'paas-test-'));
  try {
    for (const suite of suites) {
      if (only && !only.includes(suite.name)) continue;
      const files = filesOf(suite.pattern);
      console.log(`\n=== ${suite.name}: ${files.length} file(s) ===`);
      if (files.length === 0) continue;
      const tap = join(tmp, `${suite.name}.tap`);
      const code = await runNode([
        '--test',
        `--test-concurrency=${suite.concurrency}`,
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tap}`,
        ...files,
      ]);
      const counts = countTap(tap);
      if (code !== 0 && counts.failed === 0) counts.failed = 1; // the runner itself failed
      console.log(`--- ${suite.name}: ${counts.passed} passed, ${counts.failed} failed`);
      passed += counts.passed;
      failed += counts.failed;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

void main();
