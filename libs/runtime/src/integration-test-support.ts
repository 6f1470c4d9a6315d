import { randomInt } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pollUntil } from '@paas/local-services';
import type { ContainerSpec } from './container-runtime';
import { cleanupAll } from './cleanup-all';
import { RuncRuntime, type RuncRuntimeConfig } from './runc-runtime';
import { ensureStack, VCAP_GID, VCAP_UID } from './stack';

/**
 * A runtime config of its own for an integration test: everything named after `name` (the
 * container prefix, bridge and iptables chain), a random /24 and the given host-port block, all
 * state under `tmp`, which it makes traversable by others (0711): the containers' root is an
 * unprivileged host uid (user namespace) that must reach its rootfs under it. Test-only.
 */
export function testRuntimeConfig(name: string, tmp: string, portBase: number): RuncRuntimeConfig {
  chmodSync(tmp, 0o711);
  return {
    prefix: name,
    stateDir: join(tmp, 'state'),
    stackDir: join(tmp, 'stack'),
    runcRoot: join(tmp, 'runc'),
    network: {
      bridge: name,
      subnet: `10.${randomInt(200, 250)}.${randomInt(1, 250)}.0/24`,
      hostPortRange: [portBase, portBase + 49],
    },
    iptablesChain: name.toUpperCase(),
  };
}

/** What `createTestRuntime` makes: a real runc runtime with its own names, network and state. */
export interface TestRuntime {
  readonly tmp: string;
  readonly config: RuncRuntimeConfig;
  readonly runtime: RuncRuntime;
  /** The droplet layer: the test's app files are under its `app/`. */
  readonly droplet: string;
  /** A spec for container `id` from the test's defaults (its log in `tmp/<id>.log`), with `overrides`. */
  spec(id: string, overrides?: Partial<ContainerSpec>): ContainerSpec;
  /** Removes every container, the bridge, the iptables chain and `tmp`. */
  dispose(): Promise<void>;
}

export interface TestRuntimeOptions {
  /** Names the container prefix, bridge and chain (see testRuntimeConfig). */
  name: string;
  portBase: number;
  /** Files written under the droplet's `app/` (path relative to it → content). */
  appFiles?: Record<string, string>;
  /** What every spec has unless it says otherwise (id and logFile are the fixture's). */
  defaults: Omit<Partial<ContainerSpec>, 'id' | 'logFile'>;
  /** Changes the config before the runtime is made from it (platform networks, id mapping). */
  configure?: (config: RuncRuntimeConfig) => RuncRuntimeConfig;
}

/**
 * A test's own runc runtime, stack and droplet under a fresh temp dir: call in `before`, and
 * `dispose` in `after` (it cleans up even when a test failed half way). Test-only.
 */
export async function createTestRuntime(options: TestRuntimeOptions): Promise<TestRuntime> {
  const tmp = await mkdtemp(join(tmpdir(), `paas-${options.name}-it-`));
  const droplet = join(tmp, 'droplet');
  for (const [path, content] of Object.entries(options.appFiles ?? { '.keep': '' })) {
    await mkdir(dirname(join(droplet, 'app', path)), { recursive: true });
    await writeFile(join(droplet, 'app', path), content);
  }
  const base = testRuntimeConfig(options.name, tmp, options.portBase);
  const config = options.configure ? options.configure(base) : base;
  await ensureStack(config.stackDir, config.idMapping);
  const runtime = new RuncRuntime(config);
  return {
    tmp,
    config,
    runtime,
    droplet,
    spec: (id, overrides = {}) => ({
      id,
      layers: [droplet],
      command: ['/usr/bin/sleep', '300'],
      cwd: '/app',
      env: {},
      user: { uid: VCAP_UID, gid: VCAP_GID },
      memoryMb: 128,
      pidsLimit: 32,
      ...options.defaults,
      logFile: join(tmp, `${id}.log`),
      ...overrides,
    }),
    async dispose() {
      try {
        await cleanupAll(config);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}

/**
 * GETs `http://127.0.0.1:<hostPort><path>` until it answers (the app may still boot), at most
 * `deadlineMs`; throws naming the last error.
 */
export function getWhenUp(hostPort: number, path: string, deadlineMs = 10_000): Promise<Response> {
  return pollUntil(`an answer from 127.0.0.1:${hostPort}${path}`, () => fetch(`http://127.0.0.1:${hostPort}${path}`, { signal: AbortSignal.timeout(3000) }), {
    timeoutMs: deadlineMs,
  });
}
