/**
 * tools/bench/push-to-live: time from `git push` of examples/hello-node to the first 200 through
 * the router, cold (a new app: empty build cache, droplet not on any cell) and warm (a new commit
 * to the same app: build cache and stack warm), in one run on one platform; prints the medians and
 * the warm/cold ratio. Then the build cache's effect on an Express app with a lockfile (packages
 * from a fixture npm registry on each cell's gateway): the first push (empty npm cache, nothing
 * cached), a second push of the same lockfile (node_modules reused) and a push with a changed
 * lockfile (a fresh npm ci from the warm npm cache). BENCH_RUNS (default 3) sets the number of runs of each.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routerGet } from './bench-kit';
import type { NpmRegistryFixture } from '@paas/testing';
import { EXPRESS_SERVER, ROOT, commitDir, git, startIsolatedPlatformWithRegistry, stopIsolatedPlatformWithRegistry, writeExpressApp, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';

const runs = Number(process.env.BENCH_RUNS ?? 3);


async function firstOk(platform: TestPlatform, host: string, marker: string, timeoutMs = 120_000): Promise<number> {
  return pollUntil(
    `${host} to answer with ${marker}`,
    async () => {
      const r = await routerGet(platform, host);
      return r.status === 200 && r.text.includes(marker) && Date.now();
    },
    { timeoutMs, intervalMs: 20 },
  );
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

async function createApp(platform: TestPlatform, app: string): Promise<void> {
  const res = await fetch(`${platform.apiUrl}/v1/apps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: app }),
  });
  if (res.status !== 201) throw new Error(`cannot create ${app}: ${res.status} ${await res.text()}`);
}

interface CacheRun {
  first: number;
  sameLockfile: number;
  changedLockfile: number;
}

/** One Express app: first push, a push with the same lockfile, a push with a changed lockfile. */
async function cacheRun(platform: TestPlatform, registry: string, work: string, i: number): Promise<CacheRun> {
  const app = `cache-${i}`;
  await createApp(platform, app);
  const dir = join(work, app);
  const npmCache = join(work, 'host-npm-cache');
  const pkg = { name: app, version: '1.0.0', scripts: { start: 'node server.js' }, dependencies: { express: '^5.0.0' } };
  const server = (rev: string) => EXPRESS_SERVER.replace("process.env.APP_VERSION || 'v1'", `'${rev}'`);
  await writeExpressApp(dir, pkg, { registry, npmCache, server: server(`first-${i}`) });
  await commitDir(dir, 'first');
  const first = await pushAndTime(platform, app, dir, `first-${i}`);
  await writeExpressApp(dir, pkg, { npmCache, server: server(`same-${i}`) });
  await commitDir(dir, 'same lockfile');
  const same = await pushAndTime(platform, app, dir, `same-${i}`);
  await writeExpressApp(dir, { ...pkg, dependencies: { ...pkg.dependencies, picocolors: '^1.0.0' } }, { registry, npmCache, server: server(`changed-${i}`) });
  await commitDir(dir, 'changed lockfile');
  const changed = await pushAndTime(platform, app, dir, `changed-${i}`);
  return { first: first.total, sameLockfile: same.total, changedLockfile: changed.total };
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'paas-bench-'));
  let platform: TestPlatform | undefined;
  let registries: NpmRegistryFixture[] = [];
  const cold: Array<{ push: number; total: number }> = [];
  const warm: Array<{ push: number; total: number }> = [];
  const cache: CacheRun[] = [];
  try {
    ({ platform, registries } = await startIsolatedPlatformWithRegistry(2, ['express', 'picocolors']));
    for (let i = 0; i < runs; i++) {
      const app = `bench-${i}`;
      await createApp(platform, app);
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
    for (let i = 0; i < runs; i++) {
      cache.push(await cacheRun(platform, registries[0].url, work, i));
      const r = cache[i];
      console.log(`express run ${i + 1}/${runs}: first ${r.first} ms, same lockfile ${r.sameLockfile} ms, changed lockfile ${r.changedLockfile} ms`);
    }
  } finally {
    await stopIsolatedPlatformWithRegistry(platform, registries);
    await rm(work, { recursive: true, force: true });
  }
  const c = median(cold.map((r) => r.total));
  const w = median(warm.map((r) => r.total));
  console.log('\npush-to-live (git push of examples/hello-node -> first 200 through the router)');
  console.log(`  cold median: ${c} ms   (git push itself: ${median(cold.map((r) => r.push))} ms)`);
  console.log(`  warm median: ${w} ms   (git push itself: ${median(warm.map((r) => r.push))} ms)`);
  console.log(`  warm/cold:   ${(w / c).toFixed(2)}`);
  console.log(`  runs:        ${runs} each`);
  const first = median(cache.map((r) => r.first));
  const same = median(cache.map((r) => r.sameLockfile));
  const changed = median(cache.map((r) => r.changedLockfile));
  console.log('\nbuild cache (Express + lockfile, git push -> first 200 through the router)');
  console.log(`  first push (nothing cached):          ${first} ms`);
  console.log(`  same lockfile (node_modules reused):  ${same} ms   (${(same / first).toFixed(2)} of the first)`);
  console.log(`  changed lockfile (npm cache warm):    ${changed} ms   (${(changed / first).toFixed(2)} of the first)`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
