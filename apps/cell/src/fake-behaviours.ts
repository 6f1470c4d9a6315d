/**
 * What the fake runtime's containers do, keyed by what the job says: the one place the scripts of
 * the fake host (CELL_RUNTIME=fake, see cell-host.ts) are written down. The agent's normal code
 * paths then report what happened, in their own words (a failed build is the stager's
 * "build failed (exit N): <last stderr line>"). Tests name a behaviour; they never reach into the
 * agent.
 *
 * Buildpacks (the staging container, see fake-buildpack.ts): a buildpack named `failing`
 * (e.g. an operator buildpack the test installs, named in manifest.yml `buildpacks:` or
 * BUILDPACK) prints FAILING_BUILDPACK_OUTPUT on stderr and exits FAILING_BUILDPACK_EXIT_CODE; it
 * never detects an app (detection skips it). A buildpack named `slow` succeeds after
 * SLOW_BUILDPACK_MS (a staging a test can catch in progress); it never detects either. Any other
 * buildpack succeeds at once.
 *
 * Start commands (an instance's or a task's, the command launchCommand wraps):
 * - `crash` (a word of it): the container exits with status 1 at once, as an app that dies on
 *   start; the agent reports "exited with status 1".
 * - `crash-from-index-N`: so only for instance indexes N and above (INSTANCE_INDEX); below, a healthy app.
 * - `hang` or `nobind` (a word of it): the container runs but never listens on its port, as an
 *   app that never binds it; the agent's health check decides (STARTING until its timeout).
 * - `echo TEXT` (a `;`-separated step of it, see fakeOutput): the instance prints TEXT on stdout
 *   when it starts, so a failure report can quote its output (`echo server starting; nobind`).
 *
 * Tasks (run-task, the release phase: a foreground container that is no staging, see fakeTaskRun):
 * the command is read as `;`-separated steps; each `echo TEXT` prints TEXT on stdout, `exit N`
 * ends it with status N (0 when there is none), `sleep` waits until the task is stopped (then the
 * runtime ends it with 143) or its timeout passes (exit 137, reason timeout), as a long migration.
 * Nothing else is run.
 *
 * Instances: every other container with a port answers HTTP 200 on its host port (a healthy app), and
 * exits when POSTed `/__fake/exit?status=N&oom=1` (libs/runtime fake-app-server.ts): the agent
 * reports the crash as a real one ("out of memory (killed at its 256 MB limit)", "exited with status 3").
 *
 * Usage (what `stats` reads, see fakeUsage): every running container keeps FAKE_CPU_MILLICORES
 * busy, uses FAKE_MEMORY_BYTES plus FAKE_MEMORY_GROWTH_BYTES_PER_MS for each ms it has run (so a
 * newer sample reads more), and FAKE_DISK_BYTES of disk.
 */
import type { ContainerSpec, ContainerStats, RunOptions, RunResult } from '@paas/runtime';

/** The name of the buildpack that fails every build it is asked to run. */
export const FAILING_BUILDPACK = 'failing';

/** What the failing buildpack prints (stderr), as a Node.js build whose package.json has no build script. */
export const FAILING_BUILDPACK_OUTPUT = 'npm ERR! missing script: build';

/** The failing buildpack's exit status. */
export const FAILING_BUILDPACK_EXIT_CODE = 1;

/** The name of the buildpack that takes SLOW_BUILDPACK_MS to build. */
export const SLOW_BUILDPACK = 'slow';

/** How long the slow buildpack builds. */
export const SLOW_BUILDPACK_MS = 3_000;

/** Whether detection may pick the fake buildpack of this name (the scripted ones must be named). */
export function buildpackDetects(name: string): boolean {
  return name !== FAILING_BUILDPACK && name !== SLOW_BUILDPACK;
}

/** Whether the fake buildpack of this name fails when it runs. */
export function buildpackFails(name: string): boolean {
  return name === FAILING_BUILDPACK;
}

/** The CPU every fake container keeps busy, in millicores (250: the usage sampler reads 25 %). */
export const FAKE_CPU_MILLICORES = 250;

/** Memory a fake container uses when it starts. */
export const FAKE_MEMORY_BYTES = 64 * 1024 * 1024;

/** How much a fake container's memory grows per ms it runs (about 1 MB a second). */
export const FAKE_MEMORY_GROWTH_BYTES_PER_MS = 1024;

/** Disk a fake container uses. */
export const FAKE_DISK_BYTES = 12 * 1024 * 1024;

/** A running fake container's usage after `runningMs` (FakeRuntimeConfig.usageFor), as the header says. */
export function fakeUsage(_spec: ContainerSpec, runningMs: number): Pick<ContainerStats, 'cpuNanos' | 'memoryBytes' | 'diskBytes'> {
  return {
    cpuNanos: runningMs * FAKE_CPU_MILLICORES * 1000,
    memoryBytes: FAKE_MEMORY_BYTES + runningMs * FAKE_MEMORY_GROWTH_BYTES_PER_MS,
    diskBytes: FAKE_DISK_BYTES,
  };
}

/** The command a fake container runs: the start command launchCommand wraps (its last argument). */
function startCommandOf(spec: ContainerSpec): string {
  return spec.command.at(-1) ?? '';
}

/** When a fake container exits on its own (FakeRuntimeConfig.crashAfterMs): at once for `crash` commands, as the header says. */
export function fakeCrashAfterMs(spec: ContainerSpec): number | undefined {
  const command = startCommandOf(spec);
  const from = /\bcrash-from-index-(\d+)\b/.exec(command);
  if (from) return Number(spec.env.INSTANCE_INDEX ?? 0) >= Number(from[1]) ? 0 : undefined;
  return /\bcrash\b/.test(command) ? 0 : undefined;
}

/** Whether a fake container listens on its port (FakeRuntimeConfig.listensFor): not for `hang` or `nobind` commands. */
export function fakeListens(spec: ContainerSpec): boolean {
  return !/\b(hang|nobind)\b/.test(startCommandOf(spec));
}

/** The `;`-separated steps of a fake container's command, trimmed. */
function stepsOf(spec: ContainerSpec): string[] {
  return startCommandOf(spec).split(';').map((s) => s.trim());
}

/** What `echo TEXT` prints: TEXT, or undefined for a step that is no echo. */
function echoed(step: string): string | undefined {
  return /^echo\s+(.*)$/.exec(step)?.[1];
}

/** What an instance prints when it starts (FakeRuntimeConfig.outputFor): its command's echos, as the header says. */
export function fakeOutput(spec: ContainerSpec): string[] {
  return stepsOf(spec).flatMap((step) => echoed(step) ?? []);
}

/**
 * A task's part on the fake runtime (FakeRuntimeConfig.runFor for what is no staging): its echos,
 * its `sleep` (until `stopped` aborts or options.timeoutMs passes), then its exit, as the header says.
 */
export async function fakeTaskRun(spec: ContainerSpec, options: RunOptions, stopped: AbortSignal): Promise<RunResult> {
  for (const step of stepsOf(spec)) {
    const echo = echoed(step);
    if (echo !== undefined) options.onLine(echo, 'stdout');
    if (step === 'sleep' && !(await untilStopped(stopped, options.timeoutMs))) return { exitCode: 137, reason: 'timeout' };
    if (stopped.aborted) return { exitCode: 143 }; // the runtime answered already; nothing more runs
    const exit = /^exit\s+(\d+)$/.exec(step);
    if (exit) return { exitCode: Number(exit[1]) };
  }
  return { exitCode: 0 };
}

/** Resolves true once `stopped` aborts, false when `timeoutMs` passes first. */
function untilStopped(stopped: AbortSignal, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (stopped.aborted) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    stopped.addEventListener('abort', () => (clearTimeout(timer), resolve(true)), { once: true });
  });
}
