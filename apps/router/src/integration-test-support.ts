/**
 * Support for the router's integration specs: a router config and a real router process. The
 * throwaway redis-server, the backends and the request helper are in @paas/testing. Test-only.
 */
import { freePort, pollUntil } from '@paas/local-services';
import { ROUTER_NODE_FLAGS } from '@paas/contracts';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { RouterConfig } from './config';

/**
 * A port nothing listens on, below the kernel's ephemeral range (the platform's one freePort): a
 * port from listen(0) is an ephemeral one, and a connect to it from 127.0.0.1 can be given that same
 * port as its local end and connect to itself (TCP self-connect), so a "dead" backend answered
 * nothing instead of refusing.
 */
export { freePort };

/** A router config for a test: its own Redis and prefix, an ephemeral port on 127.0.0.1, short timeouts. */
export function testRouterConfig(redisUrl: string, redisPrefix: string, overrides: Partial<RouterConfig> = {}): RouterConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    redisUrl,
    redisPrefix,
    logLevel: 'silent',
    resyncIntervalMs: 30_000,
    connectTimeoutMs: 2_000,
    backendTimeoutMs: 10_000,
    shutdownTimeoutMs: 2_000,
    ...overrides,
  };
}

export interface RouterProcess {
  port: number;
  pid: number;
  /** Ends it by its pid (SIGKILL) and waits for its exit; safe twice. */
  kill(): Promise<void>;
}

/**
 * A real router process (`node dist/main.js`, as the platform runs it) on a free port of
 * 127.0.0.1, reading routes from `redisUrl` under `prefix`, with `env` as further settings.
 * Resolves once `serves(port)` says it serves what the test set up (polled up to 20 s); ends it
 * if that never comes.
 */
export async function startRouterProcess(options: {
  redisUrl: string;
  prefix: string;
  env?: Record<string, string>;
  what: string;
  serves: (port: number) => Promise<boolean>;
}): Promise<RouterProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...ROUTER_NODE_FLAGS, join(__dirname, 'main.js')], {
    env: {
      PATH: process.env.PATH,
      ROUTER_PORT: String(port),
      ROUTER_HOST: '127.0.0.1',
      REDIS_URL: options.redisUrl,
      PAAS_REDIS_PREFIX: options.prefix,
      LOG_LEVEL: 'silent',
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const kill = async () => {
    if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGKILL');
    await exited;
  };
  try {
    await pollUntil(`the router process to serve ${options.what}`, async () => ((await options.serves(port).catch(() => false)) ? true : undefined), { timeoutMs: 20_000 });
  } catch (error) {
    await kill();
    throw error;
  }
  return { port, pid: child.pid!, kill };
}
