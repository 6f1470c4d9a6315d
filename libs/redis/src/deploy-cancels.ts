import type { Redis } from 'ioredis';
import type { RedisKeys } from '@paas/contracts';

/**
 * Cancel requests of running deployments (RedisKeys.deployCancel: JSON {by, at} with a TTL), set
 * by the replica that took the request and polled by the replica running the deployment.
 */

/** The value of a cancel key: who asked and when. Pure. */
export function cancelRequest(by: string, at = new Date()): string {
  return JSON.stringify({ by, at: at.toISOString() });
}

/** Who asked, from a cancel key's value (tolerant of a malformed value). Pure. */
export function cancelRequester(value: string): string {
  try {
    const parsed = JSON.parse(value) as { by?: unknown };
    return typeof parsed.by === 'string' && parsed.by ? parsed.by : 'someone';
  } catch {
    return 'someone';
  }
}

/** Asks to cancel the deployment, on behalf of `by`, for `ttlSeconds`. Safe to call twice (the last asker wins). */
export async function requestDeployCancel(redis: Redis, keys: RedisKeys, deploymentId: string, by: string, ttlSeconds: number, at = new Date()): Promise<void> {
  await redis.set(keys.deployCancel(deploymentId), cancelRequest(by, at), 'EX', ttlSeconds);
}

/** Who asked to cancel the deployment, or undefined while nobody did. */
export async function readDeployCancel(redis: Redis, keys: RedisKeys, deploymentId: string): Promise<string | undefined> {
  const value = await redis.get(keys.deployCancel(deploymentId));
  return value === null ? undefined : cancelRequester(value);
}

/** Forgets the cancel request of a deployment that ended. Safe to call twice. */
export async function clearDeployCancel(redis: Redis, keys: RedisKeys, deploymentId: string): Promise<void> {
  await redis.del(keys.deployCancel(deploymentId));
}
