import type { Redis } from 'ioredis';
import { actualInstanceSchema, type ActualInstance, type RedisKeys } from '@paas/contracts';

/** Records the actual state of one instance, as its cell sees it. */
export async function reportInstance(redis: Redis, keys: RedisKeys, instance: ActualInstance): Promise<void> {
  await redis.hset(keys.appInstances(instance.appId), instance.instanceId, JSON.stringify(instance));
}

export async function forgetInstance(redis: Redis, keys: RedisKeys, appId: string, instanceId: string): Promise<void> {
  await redis.hdel(keys.appInstances(appId), instanceId);
}

export async function listAppInstances(redis: Redis, keys: RedisKeys, appId: string): Promise<ActualInstance[]> {
  const raw = await redis.hgetall(keys.appInstances(appId));
  const out: ActualInstance[] = [];
  for (const value of Object.values(raw)) {
    const parsed = actualInstanceSchema.safeParse(JSON.parse(value));
    if (parsed.success) out.push(parsed.data);
  }
  return out.sort((a, b) => a.index - b.index || a.since.localeCompare(b.since));
}
