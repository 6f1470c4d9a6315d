/**
 * tools/bench/push-to-live: time from `git push` of examples/hello-node to the first 200 through
 * the router, cold (a new app: empty build cache, droplet not on any cell) and warm (a new commit
 * to the same app: build cache and stack warm), in one run on one platform; prints the medians and
 * the warm/cold ratio. BENCH_RUNS (default 3) sets the number of runs of each.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routerGet } from './bench-kit';
import { ROOT, commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/platform';

const runs = Number(process.env.BENCH_RUNS ?? 3);


async function firstOk(platform: TestPlatform, host: string, marker: string, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await routerGet(platform, host);
    if (r.status === 200 && r.text.includes(marker)) return Date.now();
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`${host} did not answer with ${marker} within ${timeoutMs} ms`);
}

async function pushAndTime(platform: TestPlatform, app: string, dir: string, marker: string): Promise<{ push: number; total: number }> {
  const remote = `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${app}.git`;
  const t0 = Date.now();
  const result = await git(['push', '--force', remote, 'main'], dir);
  const pushed = Date.now();
  if (result.code !== 0) throw new Error(`push failed:\n${result.output}`);
  const live = await firstOk(platform, `${app}.${platform.appsDomain}`, marker);
  return { push: pushed - t0, total: live - t0 };
}

async function setRevision(dir: string, rev: string): Promise<void> {
  const file = join(dir, 'server.js');
  const source = await readFile(join(ROOT, 'examples', 'hello-node', 'server.js'), 'utf8');
  await writeFile(file, source.replace('Hello from', `Hello (${rev}) from`));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'paas-bench-'));
  let platform: TestPlatform | undefined;
  const cold: Array<{ push: number; total: number }> = [];
  const warm: Array<{ push: number; total: number }> = [];
  try {
    platform = await startIsolatedPlatform(2);
    for (let i = 0; i < runs; i++) {
      const app = `bench-${i}`;
      const res = await fetch(`${platform.apiUrl}/v1/apps`, {
        method: 'POST',
        headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: app }),
      });
      if (res.status !== 201) throw new Error(`cannot create ${app}: ${res.status} ${await res.text()}`);
      const dir = join(work, app);
      await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
      await setRevision(dir, `cold-${i}`);
      await commitDir(dir, 'cold');
      cold.push(await pushAndTime(platform, app, dir, `cold-${i}`));
      await setRevision(dir, `warm-${i}`);
      await commitDir(dir, 'warm');
      warm.push(await pushAndTime(platform, app, dir, `warm-${i}`));
      console.log(`run ${i + 1}/${runs}: cold ${cold[i].total} ms (push ${cold[i].push} ms), warm ${warm[i].total} ms (push ${warm[i].push} ms)`);
    }
  } finally {
    await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
  }
  const c = median(cold.map((r) => r.total));
  const w = median(warm.map((r) => r.total));
  console.log('\npush-to-live (git push of examples/hello-node -> first 200 through the router)');
  console.log(`  cold median: ${c} ms   (git push itself: ${median(cold.map((r) => r.push))} ms)`);
  console.log(`  warm median: ${w} ms   (git push itself: ${median(warm.map((r) => r.push))} ms)`);
  console.log(`  warm/cold:   ${(w / c).toFixed(2)}`);
  console.log(`  runs:        ${runs} each`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
