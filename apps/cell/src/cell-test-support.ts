/** What the cell's integration specs share: a throwaway Redis under a temp dir, and a start job. */
import type { StartInstanceJob } from '@paas/contracts';
import { freePort, pollUntil, portOpen, prepareRedis, redisProcess, redisUrlOf, type SupervisedProcess } from '@paas/local-services';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');

/** A redis-server behind a password on a free port, its files under `dir`; stop it with `server.stop()`. */
export async function startTestRedis(dir: string): Promise<{ url: string; server: SupervisedProcess }> {
  const login = await prepareRedis(dir);
  const port = await freePort();
  const server = redisProcess(ROOT, dir, port, () => undefined);
  server.start();
  await pollUntil('redis', () => portOpen(port), { timeoutMs: 30_000 });
  return { url: redisUrlOf('127.0.0.1', port, login), server };
}

/** A start job of instance `instanceId` of `appId`, for a runtime that never looks at the droplet; `overrides` replace fields. */
export function testStartJob(appId: string, instanceId: string, overrides: Partial<StartInstanceJob> = {}): StartInstanceJob {
  return {
    instanceId,
    index: 0,
    appId,
    appName: appId.replace(/^app-/, ''),
    spaceId: 'space-1',
    spaceName: 'dev',
    orgName: 'acme',
    releaseId: 'rel-1',
    processType: 'web',
    dropletId: 'droplet-1',
    dropletUrl: 'http://127.0.0.1:1/droplets/droplet-1',
    memoryMb: 256,
    diskMb: 512,
    env: {},
    uris: [],
    startCommand: 'node server.js',
    healthCheck: { type: 'process', timeoutS: 5 },
    routable: true,
    ...overrides,
  };
}
