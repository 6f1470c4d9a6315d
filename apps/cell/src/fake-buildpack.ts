import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ContainerSpec, RunOptions, RunResult } from '@paas/runtime';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildpackDetects, buildpackFails, FAILING_BUILDPACK_EXIT_CODE, FAILING_BUILDPACK_OUTPUT, SLOW_BUILDPACK, SLOW_BUILDPACK_MS } from './fake-behaviours';

/** What the fake buildpack makes every app run: the Procfile's `web:` wins, as with a real buildpack. */
export const FAKE_BUILDPACK_WEB_COMMAND = 'node server.js';

/**
 * The staging container's part on the fake runtime (FakeRuntimeConfig.runFor, see fakeHost): it
 * plays the buildpack the app named (PAAS_BUILDPACK_NAMED=1), else the first of PAAS_BUILDPACK_ORDER
 * that "detects" (a scripted one never does), without running anything. A failing buildpack (see
 * fake-behaviours.ts) prints its output on stderr and exits non-zero. Otherwise it writes what a
 * buildpack leaves in /tmp/output (`buildpack`: its name; `release.yml`: a web default of
 * FAKE_BUILDPACK_WEB_COMMAND) and says so on the build log; the source in /tmp/app stays as it
 * came, and the stager packs and uploads it as the droplet as usual. Containers that are not a
 * staging (tasks) are left to the fake's defaults (undefined).
 */
export async function fakeBuildpackRun(spec: ContainerSpec, options: RunOptions): Promise<RunResult | undefined> {
  const order = spec.env.PAAS_BUILDPACK_ORDER;
  const output = spec.binds?.find((bind) => bind.destination === '/tmp/output')?.source;
  if (order === undefined || output === undefined) return undefined;
  const names = order.split('\n').map((path) => basename(path));
  const name = (spec.env.PAAS_BUILDPACK_NAMED === '1' ? names[0] : names.find((n) => buildpackDetects(n))) ?? 'fake';
  options.onLine(`-----> ${name} (fake buildpack: the fake runtime runs no build)`, 'stdout');
  if (buildpackFails(name)) {
    options.onLine(FAILING_BUILDPACK_OUTPUT, 'stderr');
    return { exitCode: FAILING_BUILDPACK_EXIT_CODE };
  }
  if (name === SLOW_BUILDPACK) await sleep(SLOW_BUILDPACK_MS);
  await writeFile(join(output, 'buildpack'), `${name}\n`);
  await writeFile(join(output, 'release.yml'), `default_process_types:\n  web: ${FAKE_BUILDPACK_WEB_COMMAND}\n`);
  return { exitCode: 0 };
}
