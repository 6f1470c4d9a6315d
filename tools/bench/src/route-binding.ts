/**
 * tools/bench/route-binding: how fast a route-binding API call reaches the router. Two apps (blue,
 * green) run real containers; the bench flips the destinations of one route between them through
 * `PATCH /v1/routes/:id/destinations` and times, from just before the API call, the first request
 * through the router that lands on the newly bound app. Also times an unbind to the router's 404.
 * BENCH_ITERATIONS (default 50) flips.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routerGet } from './bench-kit';
import { ROOT, commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';

const iterations = Number(process.env.BENCH_ITERATIONS ?? 50);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });


async function api(platform: TestPlatform, method: string, path: string, body?: unknown) {
  const res = await fetch(platform.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function deploy(platform: TestPlatform, work: string, name: string): Promise<string> {
  const app = await api(platform, 'POST', '/v1/apps', { name });
  const dir = join(work, name);
  await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
  const source = await readFile(join(dir, 'server.js'), 'utf8');
  await writeFile(join(dir, 'server.js'), source.replace('Hello from', `Hello (${name}) from`));
  await commitDir(dir);
  const push = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${name}.git`, 'main'], dir);
  if (push.code !== 0) throw new Error(push.output);
  return app.id as string;
}

/** Back to back (the measure is the time to the first answer from the new binding), at most 10 s. */
const BIND_POLL = { timeoutMs: 10_000, intervalMs: 0 };

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'paas-bench-rb-'));
  let platform: TestPlatform | undefined;
  const bind: number[] = [];
  const apiOnly: number[] = [];
  const unbind: number[] = [];
  try {
    platform = await startIsolatedPlatform(2);
    const p = platform;
    const blue = await deploy(p, work, 'blue');
    const green = await deploy(p, work, 'green');
    const domain = (await api(p, 'GET', '/v1/domains?names=apps.localhost')).resources[0].id;
    const space = (await api(p, 'GET', '/v1/apps/blue')).space_id;
    const route = await api(p, 'POST', '/v1/routes', { host: 'canary', domain_id: domain, space_id: space });
    const host = `canary.${p.appsDomain}`;
    for (let i = 0; i < iterations; i++) {
      const [id, name] = i % 2 === 0 ? [blue, 'blue'] : [green, 'green'];
      const t0 = performance.now();
      await api(p, 'PATCH', `/v1/routes/${route.id}/destinations`, { destinations: [{ app: { id } }] });
      apiOnly.push(performance.now() - t0);
      await pollUntil(`${host} to answer from ${name}`, async () => (await routerGet(p, host, agent)).text.includes(`(${name})`), BIND_POLL);
      bind.push(performance.now() - t0);
      if (i % 5 === 4) {
        const t1 = performance.now();
        await api(p, 'PATCH', `/v1/routes/${route.id}/destinations`, { destinations: [] });
        await pollUntil(`${host} to answer 404`, async () => (await routerGet(p, host, agent)).status === 404, BIND_POLL);
        unbind.push(performance.now() - t1);
      }
    }
  } finally {
    agent.destroy();
    await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
  }
  const f = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log('\nroute-binding (API call -> first request routed accordingly, real containers, one router)');
  console.log(`  bind:           p50 ${f(pct(bind, 50))}  p99 ${f(pct(bind, 99))}  (${bind.length} flips)`);
  console.log(`  of which API:   p50 ${f(pct(apiOnly, 50))}  p99 ${f(pct(apiOnly, 99))}`);
  console.log(`  unbind -> 404:  p50 ${f(pct(unbind, 50))}  p99 ${f(pct(unbind, 99))}  (${unbind.length} unbinds)`);
  console.log(`  propagation after the API answered: p50 ${f(pct(bind, 50) - pct(apiOnly, 50))}`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
