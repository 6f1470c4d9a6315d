import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';

const root = resolve(__dirname, '..', '..', '..', '..');

/**
 * The module boundaries hold on a fresh checkout: with the project graph `npm run lint` makes,
 * each forbidden import below is an error (a rule that skips would pass them all), and the
 * allowed one is not. The texts are linted as if they were files of the named project.
 */
describe('lint: module boundaries', () => {
  let eslint: ESLint;
  const problems = async (file: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: join(root, file) });
    return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
  };

  before(async () => {
    await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'show', 'projects'], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    });
    eslint = new ESLint({ cwd: root });
  });

  it('the dashboard (a browser app) may import contracts and the API client, not Node libraries such as @paas/redis', async () => {
    assert.deepEqual(await problems('apps/dashboard/src/probe.tsx', "import { parseSizeMb } from '@paas/contracts';\nexport const x = parseSizeMb;\n"), []);
    assert.deepEqual(await problems('apps/dashboard/src/probe.tsx', "import { ApiClient } from '@paas/api-client';\nexport const x = ApiClient;\n"), []);
    const redis = await problems('apps/dashboard/src/probe.tsx', "import { createRedisConnection } from '@paas/redis';\nexport const x = createRedisConnection;\n");
    assert.match(redis.join('\n'), /enforce-module-boundaries: .*platform:browser.*platform:any/);
  });

  it('an app imports no other app; the cell imports no controller code', async () => {
    assert.match((await problems('apps/cell/src/probe.ts', "import { x } from '@paas/controller';\nexport const y = x;\n")).join('\n'), /Imports of apps are forbidden/);
  });

  it('contracts import nothing of ours', async () => {
    assert.match((await problems('libs/contracts/src/probe.ts', "import { createRedisConnection } from '@paas/redis';\nexport const x = createRedisConnection;\n")).join('\n'), /enforce-module-boundaries/);
  });

  it('a deep import into a library is refused by lint, and by the package exports at run time', async () => {
    const deep = await problems('apps/controller/src/probe.ts', "import { parseSizeMb } from '@paas/contracts/src/size';\nexport const x = parseSizeMb;\n");
    assert.match(deep.join('\n'), /no-restricted-imports: .*import the library by its name/);
    const requireFromController = createRequire(join(root, 'apps', 'controller', 'package.json'));
    assert.ok(requireFromController.resolve('@paas/contracts'), 'the entry point resolves');
    assert.throws(() => requireFromController.resolve('@paas/contracts/dist/size.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
  });

  it('production code may not import the test fixtures of @paas/testing; specs and test support may', async () => {
    const code = "import { startNpmRegistryFixture } from '@paas/testing';\nexport const x = startNpmRegistryFixture;\n";
    for (const file of ['apps/cell/src/probe.ts', 'tools/platform/src/probe.ts', 'libs/redis/src/probe.ts']) {
      assert.match((await problems(file, code)).join('\n'), /no-restricted-imports: .*@paas\/testing holds test fixtures/, file);
    }
    for (const file of ['apps/cell/src/probe.spec.ts', 'apps/cell/src/probe.integration-spec.ts', 'apps/router/src/probe-test-support.ts', 'tools/platform/src/testing/probe.ts', 'tools/test/src/e2e/probe.e2e-spec.ts', 'tools/bench/src/probe.ts']) {
      assert.deepEqual(await problems(file, code), [], file);
    }
  });

  it('production code may not import the isolated test platform of @paas/test-platform; e2e specs and benches may', async () => {
    const code = "import { startIsolatedPlatform } from '@paas/test-platform';\nexport const x = startIsolatedPlatform;\n";
    for (const file of ['tools/platform/src/probe.ts', 'apps/controller/src/probe.ts']) {
      assert.match((await problems(file, code)).join('\n'), /no-restricted-imports: .*@paas\/test-platform is the isolated test platform/, file);
    }
    for (const file of ['tools/test/src/e2e/probe.e2e-spec.ts', 'tools/test/src/e2e/probe-support.ts', 'tools/bench/src/probe.ts']) {
      assert.deepEqual(await problems(file, code), [], file);
    }
  });
});
