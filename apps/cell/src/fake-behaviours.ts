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
 * never detects an app (detection skips it). Any other buildpack succeeds.
 */

/** The name of the buildpack that fails every build it is asked to run. */
export const FAILING_BUILDPACK = 'failing';

/** What the failing buildpack prints (stderr), as a Node.js build whose package.json has no build script. */
export const FAILING_BUILDPACK_OUTPUT = 'npm ERR! missing script: build';

/** The failing buildpack's exit status. */
export const FAILING_BUILDPACK_EXIT_CODE = 1;

/** Whether the fake buildpack of this name fails when it runs. */
export function buildpackFails(name: string): boolean {
  return name === FAILING_BUILDPACK;
}
